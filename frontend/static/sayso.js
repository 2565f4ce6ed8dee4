// Sayso's small script. Every page works without it; it only helps:
// conditional reveals, the exit button, focusing the error summary, and a
// warning before the session times out.
(function () {
  'use strict';
  document.documentElement.className += ' js';

  document.addEventListener('DOMContentLoaded', function () {
    // An error summary takes focus, so screen readers announce it.
    var summary = document.querySelector('[data-error-summary]');
    if (summary) summary.focus();

    // "Until a date I choose" shows its date fields only when chosen.
    var revealers = document.querySelectorAll('input[data-reveal]');
    Array.prototype.forEach.call(revealers, function (input) {
      var target = document.getElementById(input.getAttribute('data-reveal'));
      if (!target) return;
      input.setAttribute('aria-controls', target.id);
      var group = document.querySelectorAll('input[name="' + input.name + '"]');
      var sync = function () {
        target.classList.toggle('is-hidden', !input.checked);
      };
      Array.prototype.forEach.call(group, function (other) { other.addEventListener('change', sync); });
      sync();
    });

    // Exit this page: leave without a way back to this page.
    var exit = document.querySelector('[data-exit]');
    if (exit) {
      exit.addEventListener('click', function (e) {
        e.preventDefault();
        document.body.innerHTML = '';
        window.location.replace(exit.href);
      });
    }

    // Warn two minutes before an idle session ends, and let people stay.
    var idle = parseInt(document.body.getAttribute('data-idle-seconds'), 10);
    var box = document.getElementById('timeout');
    var stay = document.getElementById('timeout-stay');
    if (idle > 180 && box && stay) {
      var timer;
      var arm = function () {
        clearTimeout(timer);
        timer = setTimeout(function () { box.hidden = false; stay.focus(); }, (idle - 120) * 1000);
      };
      stay.addEventListener('click', function () {
        fetch(window.location.pathname, { credentials: 'same-origin', cache: 'no-store' }).then(function () {
          box.hidden = true;
          arm();
        });
      });
      arm();
    }
  });
})();
