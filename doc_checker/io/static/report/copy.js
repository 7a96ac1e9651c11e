// The Copy button beside each draft physician query: copies the query's text (the clipboard API,
// or a hidden textarea where it is not available, e.g. a file:// page).
(function () {
  'use strict';
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
})();
