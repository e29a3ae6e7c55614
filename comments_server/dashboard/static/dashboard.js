/* The dashboard works without this file. It only adds: opening a reply box puts the cursor in
   it, Ctrl/Cmd+Enter publishes a reply, a confirmation before deleting, and no double submits. */
(function () {
  "use strict";
  // "toggle" does not bubble: listen while it goes down to the <details>.
  document.addEventListener("toggle", function (event) {
    var box = event.target;
    if (box.tagName === "DETAILS" && box.open && box.classList.contains("reply-box")) {
      var field = box.querySelector("textarea");
      if (field) { field.focus(); }
    }
  }, true);
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target.tagName === "TEXTAREA" && target.form) {
      event.preventDefault();
      target.form.requestSubmit();
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (form.getAttribute("data-submitting")) {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-submitting", "1");
    window.setTimeout(function () { form.removeAttribute("data-submitting"); }, 5000);
  });
}());
