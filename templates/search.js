// Searches window.IMS_SEARCH (search-index.js, loaded by its own <script> tag so the
// site works opened from disk): [kind, id, title, text, href from the site root].
(function () {
  var q = document.getElementById('q'), hits = document.getElementById('hits'), said = document.getElementById('found');
  var index = window.IMS_SEARCH;
  if (!q || !hits || !index) return;
  var root = q.getAttribute('data-root') || '', only = q.getAttribute('data-kind') || '';
  var names = {incident: 'Incident', problem: 'Problem', change: 'Change', kb: 'Article', pir: 'Review'};
  var LIMIT = 100;
  function run() {
    var words = q.value.toLowerCase().split(/\s+/).filter(Boolean), top = [], rest = [];
    if (words.length) {
      for (var i = 0; i < index.length && top.length < LIMIT; i++) {
        var e = index[i];
        if (only && e[0] !== only) continue;
        var head = (e[1] + ' ' + e[2]).toLowerCase(), all = head + ' ' + e[3].toLowerCase();
        if (!words.every(function (w) { return all.indexOf(w) >= 0; })) continue;
        (words.every(function (w) { return head.indexOf(w) >= 0; }) ? top : rest).push(e);
      }
    }
    var found = top.concat(rest).slice(0, LIMIT);
    hits.replaceChildren.apply(hits, found.map(function (e) {
      var li = document.createElement('li'), a = document.createElement('a'), k = document.createElement('span');
      a.href = root + e[4];
      a.textContent = e[2] || e[1];
      k.className = 'kind';
      k.textContent = (names[e[0]] || e[0]) + ' · ' + e[1];
      li.append(a, ' ', k);
      return li;
    }));
    if (said) said.textContent = words.length ? (found.length >= LIMIT ? 'The first ' + LIMIT + ' matches.' : found.length + (found.length === 1 ? ' match.' : ' matches.')) : '';
  }
  q.addEventListener('input', run);
  var asked = new URLSearchParams(location.search).get('q');
  if (asked) { q.value = asked; }
  run();
})();
