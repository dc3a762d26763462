/** The page's element with this id: the page always renders it, so it is never missing. */
export const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** The SVG namespace, for charts and sparklines (a name, never fetched). */
export const SVG_NS = 'http://www.w3.org/2000/svg';

/** Counts as the reader's locale writes them. */
export const number = new Intl.NumberFormat();

/**
 * A new element. Text only ever reaches the DOM as `textContent`: event data is attacker-controlled.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * A view's reads: once when it opens and every `ms` while it stays open, one at a time.
 * @param {() => Promise<void>} read
 * @param {number} ms
 * @returns {{ show(): void, hide(): void }}
 */
export function poller(read, ms) {
  /** @type {number | undefined} */
  let timer;
  return {
    show() {
      void read();
      clearInterval(timer);
      timer = setInterval(() => void read(), ms);
    },
    hide() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
