// The worklist: sort by a column (header buttons), filter by verdict (toolbar buttons), and a
// shareable view in the URL: report.html#worklist?verdict=incomplete&sort=3&dir=desc
(function () {
  'use strict';
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
