// Coders' decisions: under each note's heading a coder confirms what the checker said or corrects
// its verdict, guidance code and elements (present / missing), with a comment. Progress is kept in
// this browser (localStorage, keyed by the report's identity: the panel's data-report) and leaves
// it only through "Export decisions": a JSONL file in the decisions format `doc-checker evaluate`
// reads (doc_checker/schema/decision.schema.json; the same record as evaluation.make_decision).
// Exported: the notes the coder confirmed, or corrected (changed a verdict, code or element). A
// comment alone decides nothing: it is kept, and exported once the note is confirmed or corrected.
// The controls are two <template>s cloned into each note (the bar at load, the form when opened).
(function () {
  'use strict';
  var panel = document.getElementById('decisions');
  var barTpl = document.getElementById('decision-bar');
  var formTpl = document.getElementById('decision-form');
  if (!panel || !barTpl || !formTpl) { return; }
  var reportId = panel.getAttribute('data-report');
  var KEY = 'doc-checker.decisions.' + reportId;
  var REVIEWER_KEY = 'doc-checker.reviewer';
  var known = Array.prototype.map.call(formTpl.content.querySelectorAll('fieldset.d-el'),
    function (f) { return f.getAttribute('data-el'); });
  var store = null;
  try {  // absent in a sandboxed frame (the service's page) and when the user blocks site data
    store = window.localStorage;
    store.setItem(KEY + '.probe', '1'); store.removeItem(KEY + '.probe');
  } catch (e) { store = null; }
  if (!store && window.top !== window) {
    // a frame with no storage (the service's sandboxed page, which cannot download either): the
    // decisions could neither be kept nor exported, so none are offered
    panel.hidden = true;
    var link = document.querySelector('nav.toc a[href="#decisions"]');
    if (link) { link.hidden = true; }
    return;
  }
  var state = {version: 1, notes: {}};
  if (store) {
    try {
      var saved = JSON.parse(store.getItem(KEY) || 'null');
      if (saved && saved.notes) { state = saved; }
    } catch (e) { /* unreadable: start empty */ }
  } else {
    document.getElementById('d-storage').hidden = false;
  }
  var reviewerInput = document.getElementById('d-reviewer');
  var progress = document.getElementById('d-progress');
  var message = document.getElementById('d-message');
  var sections = Array.prototype.slice.call(document.querySelectorAll('section.note[data-note-id]'));
  var byAnchor = {};
  sections.forEach(function (s) { byAnchor[s.id] = s; });
  var checkers = {};  // anchor -> what the checker said (read from the section on first use)
  var saveTimer = null;

  function save() {
    if (saveTimer) { clearTimeout(saveTimer); saveTimer = null; }
    if (!store) { return; }
    try { store.setItem(KEY, JSON.stringify(state)); } catch (e) {
      say('Could not save in this browser (' + e.name + '): export your decisions now.');
    }
  }
  function saveSoon() { if (!saveTimer) { saveTimer = setTimeout(save, 300); } }
  function say(text) { message.textContent = text; }
  function now() { return new Date().toISOString().replace(/\.\d+Z$/, 'Z'); }
  function reviewer() { return reviewerInput.value.trim(); }

  function checkerOf(section) {
    var anchor = section.id;
    if (!checkers[anchor]) {
      var statuses = {}, required = [];
      section.querySelectorAll('table.elements tr[data-el]').forEach(function (tr) {
        var name = tr.getAttribute('data-el');
        statuses[name] = tr.getAttribute('data-status');
        if (tr.hasAttribute('data-req')) { required.push(name); }
      });
      checkers[anchor] = {
        noteId: section.getAttribute('data-note-id'),
        ruleset: section.getAttribute('data-ruleset'),
        verdict: section.getAttribute('data-verdict'),
        code: section.getAttribute('data-code') || null,
        statuses: statuses,
        required: required
      };
    }
    return checkers[anchor];
  }
  function fresh(chk) {
    var elements = {};
    known.forEach(function (n) { if (n in chk.statuses) { elements[n] = chk.statuses[n] === 'present'; } });
    return {decided: false, verdict: chk.verdict, code: chk.code, elements: elements,
      verdictSet: false, comment: '', reviewer: '', at: null};
  }
  // The verdict follows the code and the required elements as the checker's does, until the
  // coder sets it.
  function derive(dec, chk) {
    if (dec.verdictSet) { return; }
    if (dec.code !== '77002') { dec.verdict = 'not_supported'; return; }
    var all = chk.required.every(function (n) {
      return n in dec.elements ? dec.elements[n] : chk.statuses[n] === 'present';
    });
    dec.verdict = all ? 'supported' : 'incomplete';
  }
  function changes(dec, chk) {
    var out = [];
    if (dec.verdict !== chk.verdict) { out.push('verdict ' + dec.verdict.replace('_', ' ')); }
    if (dec.code !== chk.code) { out.push('code ' + (dec.code || 'none')); }
    Object.keys(dec.elements).forEach(function (n) {
      if (dec.elements[n] !== (chk.statuses[n] === 'present')) {
        out.push(n.replace(/_/g, ' ') + ' ' + (dec.elements[n] ? 'present' : 'missing'));
      }
    });
    return out;
  }
  function stateName(dec, chk) {
    if (!dec || !dec.decided) { return dec && dec.comment ? 'comment' : 'none'; }
    return changes(dec, chk).length ? 'corrected' : 'confirmed';
  }

  // ---- the controls of one note
  var worklistRows = null;
  function worklistRow(anchor) {
    if (worklistRows === null) {
      worklistRows = {};
      document.querySelectorAll('#wl tbody tr').forEach(function (tr) {
        var a = tr.querySelector('a[href^="#"]');
        if (a) { worklistRows[a.getAttribute('href').slice(1)] = tr; }
      });
    }
    return worklistRows[anchor];
  }
  function render(section) {
    var bar = section.querySelector('.decision');
    var chk = checkerOf(section), dec = state.notes[section.id];
    var name = stateName(dec, chk);
    var text = {none: 'Not reviewed', comment: 'Comment only (not exported until confirmed or corrected)',
      confirmed: 'Confirmed', corrected: 'Corrected'}[name];
    bar.querySelector('.d-state').textContent = text;
    bar.setAttribute('data-state', name);
    bar.querySelector('.d-confirm').setAttribute('aria-pressed', name === 'confirmed' ? 'true' : 'false');
    bar.querySelector('.d-clear').hidden = name === 'none';
    bar.querySelector('.d-summary').textContent = name === 'corrected' ? changes(dec, chk).join('; ') : '';
    var row = worklistRow(section.id);
    if (row) {
      if (name === 'confirmed' || name === 'corrected') { row.setAttribute('data-decision', name); }
      else { row.removeAttribute('data-decision'); }
    }
  }
  function updateProgress() {  // over the decisions only: a large report has few of them
    var n = 0, confirmed = 0;
    Object.keys(state.notes).forEach(function (anchor) {
      var s = byAnchor[anchor];
      if (!s) { return; }
      var name = stateName(state.notes[anchor], checkerOf(s));
      if (name === 'confirmed' || name === 'corrected') { n += 1; }
      if (name === 'confirmed') { confirmed += 1; }
    });
    progress.textContent = n + ' of ' + sections.length + ' notes decided (' + confirmed +
      ' confirmed, ' + (n - confirmed) + ' corrected)';
    return n;
  }
  function fillForm(form, dec) {
    form.querySelector('.d-verdict').value = dec.verdict;
    form.querySelector('.d-code').value = dec.code || '';
    form.querySelectorAll('fieldset.d-el').forEach(function (f) {
      var v = dec.elements[f.getAttribute('data-el')] ? 'present' : 'missing';
      f.querySelectorAll('input').forEach(function (i) { i.checked = i.value === v; });
    });
    form.querySelector('.d-comment').value = dec.comment || '';
  }
  function current(section) {
    var anchor = section.id;
    if (!state.notes[anchor]) { state.notes[anchor] = fresh(checkerOf(section)); }
    return state.notes[anchor];
  }
  function touched(section, dec, decided) {
    if (decided) { dec.decided = true; }
    dec.at = now();
    dec.reviewer = reviewer();
    save();
    render(section);
    updateProgress();
  }
  function buildForm(section) {
    var chk = checkerOf(section);
    var form = formTpl.content.firstElementChild.cloneNode(true);
    form.id = section.id + '-decide';
    form.setAttribute('aria-label', 'Correct the checker on note ' + chk.noteId);
    form.querySelectorAll('fieldset.d-el').forEach(function (f) {
      var n = f.getAttribute('data-el');
      if (!(n in chk.statuses)) { f.remove(); return; }
      f.querySelectorAll('input').forEach(function (i) { i.name = section.id + '-' + n; });
      f.querySelector('.d-was').textContent = '(checker: ' + chk.statuses[n] + ')';
    });
    form.addEventListener('change', function (ev) {
      var t = ev.target, dec = current(section);
      if (t.classList.contains('d-verdict')) {
        dec.verdict = t.value; dec.verdictSet = true;
      } else if (t.classList.contains('d-code')) {
        dec.code = t.value || null; derive(dec, chk);
      } else if (t.type === 'radio') {
        dec.elements[t.closest('fieldset.d-el').getAttribute('data-el')] = t.value === 'present';
        derive(dec, chk);
      } else { return; }
      form.querySelector('.d-verdict').value = dec.verdict;
      touched(section, dec, true);
      say('Note ' + chk.noteId + ': ' + stateName(dec, chk));
    });
    form.querySelector('.d-comment').addEventListener('input', function (ev) {
      var dec = current(section);
      dec.comment = ev.target.value;
      dec.at = now();
      saveSoon();
      render(section);
    });
    form.querySelector('.d-comment').addEventListener('blur', save);
    form.querySelector('.d-done').addEventListener('click', function () {
      toggleForm(section, false);
      section.querySelector('.d-edit').focus();
    });
    section.querySelector('.decision').insertAdjacentElement('afterend', form);
    return form;
  }
  function toggleForm(section, open) {
    var form = document.getElementById(section.id + '-decide');
    if (open && !form) { form = buildForm(section); }
    if (!form) { return null; }
    if (open) { fillForm(form, state.notes[section.id] || fresh(checkerOf(section))); }
    form.hidden = !open;
    section.querySelector('.d-edit').setAttribute('aria-expanded', open ? 'true' : 'false');
    return form;
  }
  function attach(section) {  // cheap: what the checker said is read when first needed
    var bar = barTpl.content.firstElementChild.cloneNode(true);
    bar.setAttribute('aria-label', 'Your decision on note ' + section.getAttribute('data-note-id'));
    bar.querySelector('.d-edit').setAttribute('aria-controls', section.id + '-decide');
    bar.querySelector('.d-confirm').addEventListener('click', function () {
      var chk = checkerOf(section), old = state.notes[section.id];
      var dec = fresh(chk);
      dec.comment = old ? old.comment : '';
      state.notes[section.id] = dec;
      var form = document.getElementById(section.id + '-decide');
      if (form && !form.hidden) { fillForm(form, dec); }
      touched(section, dec, true);
      say('Note ' + chk.noteId + ': confirmed');
    });
    bar.querySelector('.d-edit').addEventListener('click', function (ev) {
      var form = toggleForm(section, ev.currentTarget.getAttribute('aria-expanded') !== 'true');
      if (form && !form.hidden) { form.querySelector('.d-verdict').focus(); }
    });
    bar.querySelector('.d-clear').addEventListener('click', function () {
      var chk = checkerOf(section);
      delete state.notes[section.id];
      var form = document.getElementById(section.id + '-decide');
      if (form && !form.hidden) { fillForm(form, fresh(chk)); }
      save(); render(section); updateProgress();
      section.querySelector('.d-confirm').focus();
      say('Note ' + chk.noteId + ': decision cleared');
    });
    section.querySelector('.note-head').insertAdjacentElement('afterend', bar);
    if (state.notes[section.id]) { render(section); }
  }

  // ---- export and import
  function record(section, dec) {
    var chk = checkerOf(section);
    return {
      note_id: chk.noteId,
      expected: {elements: dec.elements, suggested_code: dec.code, verdict: dec.verdict},
      ruleset_version: chk.ruleset,
      comment: dec.comment ? dec.comment : null,
      reviewer: dec.reviewer ? dec.reviewer : null,
      decided_at: dec.at,
      report: reportId,
      checker: {verdict: chk.verdict, suggested_code: chk.code, elements: chk.statuses}
    };
  }
  function exportDecisions() {
    save();
    var lines = [];
    sections.forEach(function (s) {  // in the page's order (the worklist's)
      var dec = state.notes[s.id];
      if (dec && dec.decided) { lines.push(JSON.stringify(record(s, dec)) + '\n'); }
    });
    if (!lines.length) { say('Nothing to export yet: confirm or correct a note first.'); return; }
    var name = 'decisions-' + reportId + '-' + now().replace(/[-:]/g, '').replace('T', '-') + '.jsonl';
    var url = URL.createObjectURL(new Blob(lines, {type: 'application/x-ndjson'}));
    var a = document.createElement('a');
    a.href = url; a.download = name; a.hidden = true;
    document.body.appendChild(a);
    a.click();
    document.body.removeChild(a);
    setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
    say('Exported ' + lines.length + ' decision' + (lines.length === 1 ? '' : 's') + ' to ' + name + '.');
  }
  function importDecisions(text) {
    var byId = {};
    sections.forEach(function (s) {
      (byId[s.getAttribute('data-note-id')] = byId[s.getAttribute('data-note-id')] || []).push(s);
    });
    var applied = 0, unknown = 0, bad = 0;
    text.split(/\r?\n/).forEach(function (line) {
      if (!line.trim()) { return; }
      var r;
      try { r = JSON.parse(line); } catch (e) { bad += 1; return; }
      var exp = r && r.expected;
      if (!exp || typeof r.note_id !== 'string' || typeof exp.verdict !== 'string') { bad += 1; return; }
      if (!byId[r.note_id]) { unknown += 1; return; }
      byId[r.note_id].forEach(function (s) {
        var dec = fresh(checkerOf(s));
        Object.keys(exp.elements || {}).forEach(function (n) {
          if (n in dec.elements) { dec.elements[n] = exp.elements[n] === true; }
        });
        dec.code = exp.suggested_code || null;
        dec.verdict = exp.verdict;
        dec.verdictSet = true;
        dec.decided = true;
        dec.comment = typeof r.comment === 'string' ? r.comment : '';
        dec.reviewer = typeof r.reviewer === 'string' ? r.reviewer : '';
        dec.at = typeof r.decided_at === 'string' ? r.decided_at : now();
        state.notes[s.id] = dec;
        var form = document.getElementById(s.id + '-decide');
        if (form && !form.hidden) { fillForm(form, dec); }
        render(s);
        applied += 1;
      });
    });
    save();
    updateProgress();
    say('Imported ' + applied + ' decision' + (applied === 1 ? '' : 's') +
      (unknown ? '; ' + unknown + ' for notes not in this report' : '') +
      (bad ? '; ' + bad + ' unreadable line' + (bad === 1 ? '' : 's') + ' skipped' : '') + '.');
  }

  if (store) { try { reviewerInput.value = store.getItem(REVIEWER_KEY) || ''; } catch (e) { /* none */ } }
  reviewerInput.addEventListener('input', function () {
    if (store) { try { store.setItem(REVIEWER_KEY, reviewer()); } catch (e) { /* kept in the page */ } }
  });
  document.getElementById('d-export').addEventListener('click', exportDecisions);
  document.getElementById('d-import').addEventListener('change', function (ev) {
    var file = ev.target.files && ev.target.files[0];
    if (!file) { return; }
    var reader = new FileReader();
    reader.onload = function () { importDecisions(String(reader.result)); ev.target.value = ''; };
    reader.readAsText(file);
  });
  window.addEventListener('pagehide', save);
  sections.forEach(attach);
  updateProgress();
})();
