// The evidence legend: click an element to show only its highlights (the body's focus classes;
// the colour rules are in the page's stylesheet), click it again to show all.
(function () {
  'use strict';
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
})();
