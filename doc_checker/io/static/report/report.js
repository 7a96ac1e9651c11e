
(function () {
  'use strict';
  document.documentElement.setAttribute('data-js', 'ready');
  var table = document.getElementById('wl');
  var tbody = table ? table.tBodies[0] : null;
  var current = {col: -1, dir: 1, verdict: 'all'};

  function cellKey(row, col, num) {
    var c = row.cells[col];
    var v = c.getAttribute('data-v');
    if (v === null) { v = c.textContent; }
    if (num) { var n = parseFloat(v); return isNaN(n) ? Infinity : n; }
    return v.toLowerCase();
  }
  function sortBy(col, dir) {
    if (!tbody) { return; }
    var th = table.tHead.rows[0].cells[col];
    var num = th.getAttribute('data-type') === 'num';
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {
      var ka = cellKey(a, col, num), kb = cellKey(b, col, num);
      if (ka < kb) { return -dir; }
      if (ka > kb) { return dir; }
      return (+a.getAttribute('data-i')) - (+b.getAttribute('data-i'));
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h, i) {
      if (i === col) { h.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending'); }
      else { h.removeAttribute('aria-sort'); }
    });
    current.col = col; current.dir = dir;
  }
  function filter(verdict) {
    if (!tbody) { return; }
    var shown = 0;
    Array.prototype.forEach.call(tbody.rows, function (r) {
      var hide = verdict !== 'all' && r.getAttribute('data-verdict') !== verdict;
      r.hidden = hide;
      if (!hide) { shown += 1; }
    });
    document.querySelectorAll('button.filter').forEach(function (b) {
      var on = b.getAttribute('data-verdict') === verdict;
      b.classList.toggle('active', on);
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
    });
    var s = document.getElementById('shown');
    if (s) { s.textContent = shown + ' of ' + tbody.rows.length + ' notes shown'; }
    current.verdict = verdict;
  }
  if (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      if (th.getAttribute('aria-sort') === 'ascending') { current.col = i; }
      var b = th.querySelector('button.sort');
      if (b) {
        b.addEventListener('click', function () {
          sortBy(i, current.col === i ? -current.dir : 1);
        });
      }
    });
  }
  document.querySelectorAll('button.filter').forEach(function (b) {
    b.addEventListener('click', function () { filter(b.getAttribute('data-verdict')); });
  });

  function copied(btn) {
    btn.classList.add('done'); btn.textContent = 'Copied';
    setTimeout(function () { btn.classList.remove('done'); btn.textContent = 'Copy'; }, 1500);
  }
  function fallbackCopy(text, btn) {
    var ta = document.createElement('textarea');
    ta.value = text; ta.setAttribute('readonly', '');
    ta.className = 'offscreen';
    document.body.appendChild(ta); ta.select();
    try { document.execCommand('copy'); copied(btn); } catch (e) { /* nothing to do */ }
    document.body.removeChild(ta);
  }
  document.querySelectorAll('button.copy').forEach(function (btn) {
    btn.addEventListener('click', function () {
      var el = document.getElementById(btn.getAttribute('data-copy'));
      if (!el) { return; }
      var text = el.textContent;
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(function () { copied(btn); },
          function () { fallbackCopy(text, btn); });
      } else { fallbackCopy(text, btn); }
    });
  });

  var focused = null;
  document.querySelectorAll('button.focus-btn').forEach(function (b) {
    b.addEventListener('click', function () {
      var el = b.getAttribute('data-el');
      if (focused) { document.body.classList.remove('focus-el-' + focused); }
      focused = focused === el ? null : el;
      document.body.classList.toggle('focus', focused !== null);
      if (focused) { document.body.classList.add('focus-el-' + focused); }
      document.querySelectorAll('button.focus-btn').forEach(function (o) {
        o.setAttribute('aria-pressed', o.getAttribute('data-el') === focused ? 'true' : 'false');
      });
    });
  });

  // A shareable view: report.html#worklist?verdict=incomplete&sort=3&dir=desc
  var m = /^#worklist\?(.*)$/.exec(location.hash);
  if (m && table) {
    var params = {};
    m[1].split('&').forEach(function (kv) {
      var p = kv.split('=');
      params[decodeURIComponent(p[0])] = decodeURIComponent(p[1] || '');
    });
    var col = parseInt(params.sort, 10);
    if (!isNaN(col) && col >= 0 && col < table.tHead.rows[0].cells.length) {
      sortBy(col, params.dir === 'desc' ? -1 : 1);
    }
    if (params.verdict) { filter(params.verdict); }
  }
})();
