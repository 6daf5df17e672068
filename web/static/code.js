// The login page: a letter's QR code opens it as /#code=ABCD-EFGH-JKLMN. The fragment
// never reaches the server (no code in any log); this script puts the code in the field
// and takes it out of the address bar and the history, so the person only has to press
// the button. Without JavaScript the code is typed from the letter as before.

const match = /^#code=([A-Za-z0-9-]{1,40})$/.exec(window.location.hash);
if (match) {
  const field = document.getElementById('code');
  if (field instanceof HTMLInputElement && field.value === '') {
    field.value = match[1].toUpperCase();
    const button = field.form?.querySelector('button[type="submit"]');
    if (button instanceof HTMLButtonElement) button.focus();
  }
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
}
