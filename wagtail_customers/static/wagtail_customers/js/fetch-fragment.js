/**
 * wcFetchFragment(url, signal): the HTML of one of the listing's fragment views (the statistics band, the
 * column picker, the saved views menu). Each answers the bare fragment to a request sent with
 * `X-Requested-With`, and a page of its own to a link followed without JavaScript. Throws on an HTTP error,
 * as `fetch` does on a network one.
 */
window.wcFetchFragment = async (url, signal) => {
  const response = await fetch(url, {
    headers: { 'X-Requested-With': 'XMLHttpRequest' },
    credentials: 'same-origin',
    signal,
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.text();
};
