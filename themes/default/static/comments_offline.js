/* The comment section without its comment server (a static preview of the built site, or the
   server down): when the widget's script cannot load, the form, which would post to nowhere, and
   the reply links give way to a note saying why. Loaded (defer) before embed.js, so that its
   listener is in place when the browser reports that embed.js failed. */
(function () {
  "use strict";
  var section = document.getElementById("comments");
  if (!section) return;
  function offline() {
    var note = section.querySelector(".bec-offline");
    Array.prototype.forEach.call(section.querySelectorAll(".bec-new, .bec-actions"), function (node) {
      node.hidden = true;
    });
    if (note) note.hidden = false;
  }
  document.addEventListener("error", function (event) {
    var target = event.target;
    if (target && target.tagName === "SCRIPT" && /\/embed\.js(\?|#|$)/.test(target.src)) offline();
  }, true);
})();
