// The case editor's one enhancement: "add another rule/step" buttons that copy an
// empty row of the repeated legal-frame and trail fieldsets. Without the script the
// form still offers two empty rows per list; saving and previewing bring new ones.
// The button texts and legends come from the page itself (no texts here).

function renumber(row, index, legendTemplate) {
  row.dataset.row = String(index);
  const legend = row.querySelector("legend");
  if (legend && legendTemplate) {
    legend.textContent = legendTemplate.replace("{n}", String(index + 1));
  }
  for (const field of row.querySelectorAll("input, textarea")) {
    const oldId = field.id;
    const newId = oldId.replace(/-\d+$/, `-${index}`);
    const label = row.querySelector(`label[for="${oldId}"]`);
    field.id = newId;
    if (label) label.htmlFor = newId;
    field.value = "";
  }
}

function setUp(button) {
  const rows = document.getElementById(button.dataset.rows || "");
  if (!rows) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    const all = rows.querySelectorAll("fieldset.row");
    const last = all[all.length - 1];
    if (!last) return;
    const copy = last.cloneNode(true);
    renumber(copy, all.length, rows.dataset.legend || "");
    rows.appendChild(copy);
    const first = copy.querySelector("input, textarea");
    if (first) first.focus();
  });
}

for (const button of document.querySelectorAll("button.add-row[data-rows]")) {
  setUp(button);
}

// After a failed save, bring the error summary into view for keyboard and screen
// reader users.
const summary = document.getElementById("formulier-fouten");
if (summary) summary.focus();
