// Sorts a table.sortable by the column whose header is clicked (again: the other way).
// Without script the list keeps its order: active incidents first, then newest first.
(function () {
  document.querySelectorAll('table.sortable').forEach(function (table) {
    var body = table.tBodies[0], heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'sort';
      button.textContent = th.textContent;
      th.replaceChildren(button);
      button.addEventListener('click', function () {
        var up = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', up ? 'ascending' : 'descending');
        var key = function (tr) {
          var text = tr.cells[col].textContent.trim();
          return th.getAttribute('data-sort') === 'active' ? tr.getAttribute('data-done') + text : text;
        };
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) { var c = key(a).localeCompare(key(b)); return up ? c : -c; });
        body.append.apply(body, rows);
      });
    });
  });
})();
