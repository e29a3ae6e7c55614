/* The search page: asks the Pagefind index of this site (data-bundle) and lists the results.
   Results are announced through the status line; titles go in as text. */
(function () {
  "use strict";
  var script = document.currentScript;
  var form = document.querySelector(".search-form");
  var input = document.getElementById("search-query");
  var status = document.querySelector(".search-status");
  var list = document.querySelector(".search-results");
  if (!script || !form || !input || !status || !list) return;
  var loaded = null;
  var latest = 0;

  function pagefind() {
    if (!loaded) {
      loaded = import(script.dataset.bundle).then(function (module) {
        return module.options({ baseUrl: script.dataset.base }).then(function () { return module; });
      });
    }
    return loaded;
  }

  function show(query, results) {
    list.textContent = "";
    results.forEach(function (data) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = data.url;
      link.textContent = (data.meta && data.meta.title) || data.url;
      var excerpt = document.createElement("p");
      // Pagefind's excerpt is the page's own text, escaped, with <mark> around the matches.
      excerpt.innerHTML = data.excerpt;
      item.appendChild(link);
      item.appendChild(excerpt);
      list.appendChild(item);
    });
    var count = results.length;
    status.textContent = count === 0 ? "No results for \u201c" + query + "\u201d."
      : count + (count === 1 ? " result" : " results") + " for \u201c" + query + "\u201d.";
  }

  function run(query) {
    var ticket = ++latest;
    query = query.trim();
    if (!query) {
      list.textContent = "";
      status.textContent = "";
      return;
    }
    pagefind().then(function (module) {
      return module.search(query);
    }).then(function (search) {
      return Promise.all(search.results.slice(0, 20).map(function (r) { return r.data(); }));
    }).then(function (results) {
      if (ticket === latest) show(query, results);
    }).catch(function () {
      if (ticket === latest) status.textContent = "Search is not available right now.";
    });
  }

  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { run(input.value); }, 200);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var url = new URL(window.location.href);
    url.searchParams.set("q", input.value);
    window.history.replaceState(null, "", url);
    run(input.value);
  });
  var initial = new URLSearchParams(window.location.search).get("q");
  if (initial) {
    input.value = initial;
    run(initial);
  }
})();
