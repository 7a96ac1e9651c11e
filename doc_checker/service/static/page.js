
(function () {
  'use strict';
  var form = document.getElementById('check-form');
  var btn = document.getElementById('submit');
  var frame = document.getElementById('report');
  var summary = document.getElementById('summary');
  var errorBox = document.getElementById('error');
  function setState(s) { document.body.setAttribute('data-state', s); }
  function showError(msg) {
    errorBox.textContent = msg; errorBox.hidden = false; summary.hidden = true; setState('error');
  }
  function badge(text, cls) {
    var b = document.createElement('span'); b.className = cls; b.textContent = text; return b;
  }
  // The report is written for a batch: for one note keep its header, legend and detail, and drop
  // the batch summary, worklist and their links. Markup only: the report's inline style and script
  // are untouched, so its CSP hashes still match. Unparseable input is shown whole.
  function oneNote(reportHtml) {
    try {
      var doc = new DOMParser().parseFromString(reportHtml, 'text/html');
      ['#summary', '#worklist-section', 'nav.toc', 'a.back', '#notes > h2'].forEach(function (sel) {
        doc.querySelectorAll(sel).forEach(function (el) { el.parentNode.removeChild(el); });
      });
      return '<!DOCTYPE html>\n' + doc.documentElement.outerHTML;
    } catch (e) { return reportHtml; }
  }
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var text = document.getElementById('note').value;
    if (!text.trim()) { showError('Paste a note first.'); return; }
    var body = {text: text};
    var codes = document.getElementById('codes').value.trim();
    var noteId = document.getElementById('note-id').value.trim();
    if (codes) { body.codes = codes; }
    if (noteId) { body.note_id = noteId; }
    var headers = {'Content-Type': 'application/json', 'Accept': 'text/html'};
    var token = document.getElementById('token').value.trim();
    if (token) { headers.Authorization = 'Bearer ' + token; }
    btn.disabled = true; errorBox.hidden = true; setState('checking');
    fetch('v1/report', {method: 'POST', headers: headers, body: JSON.stringify(body),
                        credentials: 'omit', cache: 'no-store'})
      .then(function (resp) {
        return resp.text().then(function (payload) {
          if (!resp.ok) {
            var msg = 'HTTP ' + resp.status;
            try { var e = JSON.parse(payload).error; msg += ' ' + e.code + ': ' + e.message; } catch (x) { /* not JSON */ }
            if (resp.status === 401) { msg += ' (enter the service token)'; }
            showError(msg); return;
          }
          var verdict = resp.headers.get('X-Doc-Checker-Verdict') || '';
          summary.textContent = '';
          summary.appendChild(badge(verdict.replace('_', ' '), 'verdict v-' + verdict));
          summary.appendChild(badge('score ' + resp.headers.get('X-Doc-Checker-Score'), 'score'));
          summary.appendChild(badge('suggested code ' + resp.headers.get('X-Doc-Checker-Suggested-Code'), 'code'));
          summary.appendChild(badge('missing: ' + resp.headers.get('X-Doc-Checker-Missing'), 'missing'));
          summary.hidden = false;
          summary.setAttribute('data-verdict', verdict);
          frame.onload = function () { setState('done'); };
          frame.srcdoc = oneNote(payload);
        });
      })
      .catch(function (err) { showError('The request failed: ' + err); })
      .then(function () { btn.disabled = false; });
  });
  setState('idle');
})();
