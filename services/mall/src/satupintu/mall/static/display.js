// The now-calling display's script (served from /static, never inline): every few seconds it fetches the page
// again and swaps in the calls; a call it has not seen before is announced by its audio, in order, once a person
// has tapped the sound button (browsers block sound until someone interacts with the page). Without this script
// the page reloads itself and stays silent.
(function () {
  "use strict";
  var region = document.getElementById("display-calls");
  var toggle = document.getElementById("sound-toggle");
  if (!region || !toggle) {
    return;
  }
  var seconds = Number(region.getAttribute("data-refresh")) || 5;
  var soundOn = false;
  var waiting = [];
  var playing = false;
  var seen = new Set();
  region.querySelectorAll("[data-call]").forEach(function (call) {
    seen.add(call.getAttribute("data-call"));
  });

  function playNext() {
    if (playing || waiting.length === 0) {
      return;
    }
    playing = true;
    var audio = new Audio(waiting.shift());
    var done = function () {
      playing = false;
      playNext();
    };
    audio.addEventListener("ended", done);
    audio.addEventListener("error", done);
    audio.play().catch(done);
  }

  toggle.hidden = false;
  toggle.addEventListener("click", function () {
    soundOn = true;
    toggle.textContent = toggle.getAttribute("data-on");
    toggle.setAttribute("aria-pressed", "true");
    toggle.classList.add("sound-toggle--on");
  });

  function announceNew(calls) {
    // The latest call comes first on the page: announce the new ones oldest first.
    var found = Array.prototype.slice.call(calls.querySelectorAll("[data-call]")).reverse();
    var fresh = false;
    found.forEach(function (call) {
      var key = call.getAttribute("data-call");
      if (!seen.has(key)) {
        seen.add(key);
        fresh = true;
        if (soundOn) {
          waiting.push(call.getAttribute("data-audio"));
        }
      }
    });
    return fresh;
  }

  function look() {
    fetch(window.location.href, { cache: "no-store", headers: { Accept: "text/html" } })
      .then(function (answer) {
        return answer.ok ? answer.text() : null;
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        var page = new DOMParser().parseFromString(html, "text/html");
        var calls = page.getElementById("display-calls");
        var updated = page.getElementById("display-updated");
        if (calls) {
          var fresh = announceNew(calls);
          region.replaceWith(calls);
          region = calls;
          var latest = document.getElementById("now-calling");
          if (fresh && latest) {
            latest.classList.add("calling--new");
          }
          playNext();
        }
        var shown = document.getElementById("display-updated");
        if (updated && shown) {
          shown.replaceWith(updated);
        }
      })
      .catch(function () {
        // The network or the mall is away for a moment: the next look tries again.
      })
      .finally(function () {
        window.setTimeout(look, seconds * 1000);
      });
  }

  window.setTimeout(look, seconds * 1000);
})();
