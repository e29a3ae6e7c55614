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

  // A big site's index comes in parts (parts.json beside pagefind.js): the parts holding this
  // page's language are merged, and Pagefind ranks their results together.
  var inParts = false;

  function speaks(languages, lang) {
    return languages.indexOf(lang) !== -1 || languages.indexOf(lang.split("-")[0]) !== -1;
  }

  function pagefind() {
    if (!loaded) {
      var bundle = new URL(script.dataset.bundle, window.location.href);
      var parts = fetch(new URL("parts.json", bundle)).then(function (response) {
        return response.ok ? response.json() : { parts: [] };
      }).catch(function () { return { parts: [] }; });
      var lang = (document.documentElement.lang || "unknown").toLowerCase();
      loaded = Promise.all([import(bundle.href), parts]).then(function (both) {
        var module = both[0];
        var more = (both[1].parts || []).filter(function (part) { return speaks(part.languages, lang); });
        inParts = more.length > 0;
        return module.options({ baseUrl: script.dataset.base }).then(function () {
          return Promise.all(more.map(function (part) {
            return module.mergeIndex(new URL(part.bundle, bundle).href, { baseUrl: script.dataset.base });
          }));
        }).then(function () { return module; });
      });
    }
    return loaded;
  }

  var SHOWN = 20;
  var WALKED = 100;   // results read at most to tell a part's stand-ins from real matches

  function plain(word) { return word.toLowerCase().replace(/[^\p{L}\p{N}]/gu, ""); }

  // Where an index lacks a word, Pagefind matches the longest prefix of it that the index has
  // ("we" for "wednesday"). A part does so on its own when the word is in other parts only;
  // those stand-ins are left out, and where no part has the word, only the longest prefix is
  // kept: the results of one index. A page really matches a word when a quoted (exact,
  // stemmed) search finds it or one of its matched words begins with the word.
  function found(module, query, search) {
    var words = query.split(/\s+/).map(plain).filter(Boolean);
    if (!inParts || !words.length || /^\s*".*"\s*$/.test(query)) {
      return Promise.all(search.results.slice(0, SHOWN).map(function (r) { return r.data(); }));
    }
    var longest = words.map(function () { return 0; });
    var walked = [];   // [data, the prefix of each word it matched (Infinity: the word itself)]
    function judge(stemmed, result, data) {
      var text = data.content.split(/\s+/);
      var matched = data.locations.map(function (l) { return plain(text[l] || ""); });
      var prefixes = words.map(function (word, i) {
        if (stemmed[i][result.id] || matched.some(function (m) { return m.indexOf(word) === 0; })) {
          return Infinity;
        }
        return Math.max.apply(null, [0].concat(matched.map(function (m) {
          return word.indexOf(m) === 0 ? m.length : 0;
        })));
      });
      prefixes.forEach(function (prefix, i) { longest[i] = Math.max(longest[i], prefix); });
      walked.push([data, prefixes]);
    }
    function kept() {
      return walked.filter(function (seen) {
        return seen[1].every(function (prefix, i) { return prefix === longest[i]; });
      }).map(function (seen) { return seen[0]; });
    }
    // Read the results a page at a time, until a page's worth really match (stand-ins rank
    // below: their word is shorter than the query's) or WALKED have been read.
    function walk(stemmed, from) {
      if (from >= Math.min(search.results.length, WALKED) || kept().length >= SHOWN &&
          longest.every(function (prefix) { return prefix === Infinity; })) {
        return kept().slice(0, SHOWN);
      }
      var page = search.results.slice(from, from + SHOWN);
      return Promise.all(page.map(function (r) { return r.data(); })).then(function (datas) {
        datas.forEach(function (data, n) { judge(stemmed, page[n], data); });
        return walk(stemmed, from + SHOWN);
      });
    }
    return Promise.all(words.map(function (word) { return module.search("\"" + word + "\""); }))
      .then(function (exact) {
        return walk(exact.map(function (s) {
          var ids = {};
          s.results.forEach(function (r) { ids[r.id] = true; });
          return ids;
        }), 0);
      });
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
      return module.search(query).then(function (search) { return found(module, query, search); });
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
  } else {
    // The index (every part's) loads while the reader types: the first query then only
    // fetches the words it asks for. (A failure shows when a query runs.)
    pagefind().catch(function () {});
  }
})();
