// Click-to-load videos (the `video` shortcode): nothing comes from the video site until the
// reader clicks; then the link is swapped for the player. Without JavaScript the link stays.
(function () {
  "use strict";
  if (window.blogengineVideos) return;   // one listener, however many videos a page has
  window.blogengineVideos = true;
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".sc-video-link");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    var figure = link.closest(".sc-video");
    var src = figure && figure.getAttribute("data-embed");
    if (!src) return;
    event.preventDefault();
    var frame = document.createElement("iframe");
    frame.src = src;
    frame.title = figure.getAttribute("data-title") || "Video";
    frame.width = "640";
    frame.height = "360";
    frame.allow = "autoplay; encrypted-media; picture-in-picture; fullscreen";
    frame.setAttribute("allowfullscreen", "");
    frame.className = "sc-video-frame";
    link.replaceWith(frame);
    frame.focus();
  });
})();
