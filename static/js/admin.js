// On a phone the staff menu is one row that scrolls sideways: bring the current page's
// entry into view, or the reader cannot tell where they are.
document.addEventListener("DOMContentLoaded", () => {
  const current = document.querySelector('.admin-nav a[aria-current="page"]');
  if (current) current.scrollIntoView({ block: "nearest", inline: "center" });
});
