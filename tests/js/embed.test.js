// Unit tests for the widget's pure functions (comments_server/widget/static/embed.js), with
// Node's own test runner: `node --test tests/js/` (tests/test_widget.py runs it under pytest).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const REPO = path.join(__dirname, "..", "..");
const embed = require(path.join(REPO, "comments_server/widget/static/embed.js"));
const read = (file) => JSON.parse(fs.readFileSync(path.join(REPO, file), "utf8"));
const CATALOGUES = {en: read("comments_server/strings/en.json"), fr: read("comments_server/strings/fr.json")};
const EN = embed.catalogueFor(CATALOGUES, "en");
const FR = embed.catalogueFor(CATALOGUES, "fr");

test("a language tag picks its catalogue, English for the rest", () => {
  assert.equal(embed.catalogueFor(CATALOGUES, "fr-CA").reply, "Répondre");
  assert.equal(embed.catalogueFor(CATALOGUES, "FR_ca").reply, "Répondre");
  assert.equal(embed.catalogueFor(CATALOGUES, "de").reply, "Reply");
  assert.equal(embed.catalogueFor(CATALOGUES, "").reply, "Reply");
  const partial = embed.catalogueFor({en: {reply: "Reply", edit: "Edit"}, xx: {reply: "Antwort"}}, "xx");
  assert.deepEqual(partial, {reply: "Antwort", edit: "Edit"});
});

test("fill fills known fields and keeps the others", () => {
  assert.equal(embed.fill("Reply to {name}", {name: "Kim"}), "Reply to Kim");
  assert.equal(embed.fill("{n} of {total}", {n: 0}), "0 of {total}");
  assert.equal(embed.fill("{name}", {name: "{n}", n: 1}), "{n}");
});

test("counts follow the language's plural rules", () => {
  const en = new Intl.PluralRules("en"), fr = new Intl.PluralRules("fr");
  assert.deepEqual([0, 1, 2].map((n) => embed.countText(EN, en, n)), ["No comments yet", "1 comment", "2 comments"]);
  assert.deepEqual([0, 1, 2].map((n) => embed.countText(FR, fr, n)),
    ["Aucun commentaire pour l’instant", "1 commentaire", "2 commentaires"]);
});

test("errors become the same sentences as in the no-JavaScript form", () => {
  const labels = {body: "Comment", author_name: "Name", author_email: "Email", author_url: "Website"};
  for (const {error, expect} of read("tests/js/error_cases.json")) {
    assert.equal(embed.errorText(EN, error, (field) => labels[field] || field || ""), expect);
  }
  assert.equal(embed.errorText(FR, {code: "missing", field: "author_name"}, () => "Nom"), "Veuillez remplir « Nom ».");
});

test("dates read in words in the site's time zone, as the theme bakes them", () => {
  const when = new Date("2024-01-07T10:00:00Z");
  const utc = embed.zonedParts(embed.zoneFormat("UTC"), when);
  assert.deepEqual(utc, {year: 2024, month: 1, day: 7, hour: 10, minute: 0, offset: 0});
  assert.equal(embed.dateText(EN, utc), "January 7, 2024");
  assert.equal(embed.exactText(EN, utc), "January 7, 2024 at 10:00 (UTC)");
  const newfoundland = embed.zonedParts(embed.zoneFormat("America/St_Johns"), when);
  assert.equal(embed.exactText(FR, newfoundland), "7 janvier 2024 à 06:30 (UTC-3:30)");
  const paris = embed.zonedParts(embed.zoneFormat("Europe/Paris"), new Date("2024-12-31T23:30:00Z"));
  assert.equal(embed.exactText(EN, paris), "January 1, 2025 at 00:30 (UTC+1)");
  const unknown = embed.zonedParts(embed.zoneFormat("Mars/Olympus"), when);
  assert.equal(embed.exactText(EN, unknown), "January 7, 2024 at 10:00 (UTC)");
});

test("UTC offsets are written as the theme's utc_offset filter writes them", () => {
  assert.deepEqual([0, 60, -210, 345, -600].map(embed.utcOffset), ["UTC", "UTC+1", "UTC-3:30", "UTC+5:45", "UTC-10"]);
});

test("relative times", () => {
  const en = new Intl.RelativeTimeFormat("en", {numeric: "auto"});
  const fr = new Intl.RelativeTimeFormat("fr", {numeric: "auto"});
  assert.equal(embed.relativeText(EN, en, -30), "just now");
  assert.equal(embed.relativeText(FR, fr, -30), "à l’instant");
  assert.equal(embed.relativeText(EN, en, -5 * 60), "5 minutes ago");
  assert.equal(embed.relativeText(EN, en, -3 * 86400), "3 days ago");
  assert.equal(embed.relativeText(EN, en, -400 * 86400), "last year");
});

test("a thread path goes into a query string as the theme's urlencode filter writes it", () => {
  assert.equal(embed.queryValue("/2024/01/a post/"), "/2024/01/a%20post/");
  assert.equal(embed.queryValue("/it's (really) ok!*/"), "/it%27s%20%28really%29%20ok%21%2A/");
  assert.equal(embed.queryValue("/café?&=#/"), "/caf%C3%A9%3F%26%3D%23/");
});
