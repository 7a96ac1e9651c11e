// Last: every module above has set itself up (tests wait for this mark).
document.documentElement.setAttribute('data-js', 'ready');
