"""A small accessibility check of the basics, run inside the page, and a keyboard walk.

``audit(page)`` returns the problems a screen-reader or low-vision user would meet first:

- ``lang``: ``<html lang="zh-CN">``;
- ``label``: every visible input, select and textarea has a label (``label[for=id]``, a
  wrapping label, ``aria-label`` or ``aria-labelledby``);
- ``img-alt``: every ``<img>`` has an ``alt`` attribute;
- ``headings``: exactly one h1, the first heading is the h1, no level skipped going down;
- ``contrast``: text against the first non-transparent background up its ancestors is at
  least 4.5:1, or 3:1 for large text (24px, or bold and 18.66px);
- ``name``: every link, button and ``role="img"`` has an accessible name;
- ``clipped``: no text is cut off: no element with text of its own is wider inside than
  its box (``scrollWidth > clientWidth``: an ellipsis, hidden overflow, text running
  out), and the placeholder, value or chosen option of a control fits the control.

``keyboard_walk(page)`` presses Tab through the page and reports interactive elements Tab
never reaches and focused elements that look no different from unfocused ones.
"""

AUDIT_JS = r"""
() => {
  const problems = [];
  const describe = (el) => {
    const html = el.outerHTML.replace(/\s+/g, ' ');
    return html.length > 160 ? html.slice(0, 157) + '...' : html;
  };
  const report = (rule, el, message) =>
    problems.push({rule, message, element: el ? describe(el) : ''});

  const rendered = (el) =>
    el.checkVisibility({visibilityProperty: true, opacityProperty: true}) &&
    el.getClientRects().length > 0;

  // Colours through a canvas, so every CSS syntax (rgb, oklch, color(), names) is read the
  // way the browser paints it: [r, g, b, a] with a in 0..1.
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const cache = new Map();
  const rgba = (css) => {
    if (cache.has(css)) return cache.get(css);
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = 'rgba(0, 0, 0, 0)';
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    const value = [d[0], d[1], d[2], d[3] / 255];
    cache.set(css, value);
    return value;
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  };
  const luminance = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  // The colour behind an element: backgrounds up the ancestors until an opaque one, blended
  // over white (the canvas). null when an image or gradient is in the way: not judged.
  const backgroundOf = (el) => {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.backgroundImage && style.backgroundImage !== 'none') return null;
      const colour = rgba(style.backgroundColor);
      if (colour[3] > 0) {
        layers.push(colour);
        if (colour[3] >= 1) break;
      }
    }
    let result = [255, 255, 255, 1];
    for (const layer of layers.reverse()) result = over(layer, result);
    return result;
  };
  const opacityOf = (el) => {
    let value = 1;
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      value *= parseFloat(getComputedStyle(node).opacity);
    }
    return value;
  };
  const checkContrast = (el, colourCss, what) => {
    const style = getComputedStyle(el);
    const background = backgroundOf(el);
    if (background === null) return;
    const fg = rgba(colourCss);
    const colour = over([fg[0], fg[1], fg[2], fg[3] * opacityOf(el)], background);
    const size = parseFloat(style.fontSize);
    const bold = parseInt(style.fontWeight, 10) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    const needed = large ? 3 : 4.5;
    const value = ratio(colour, background);
    if (value + 1e-6 < needed) {
      const hex = (c) => '#' + c.slice(0, 3)
        .map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
      report('contrast', el,
        `${what}: contrast ${value.toFixed(2)}:1 < ${needed}:1 ` +
        `(${hex(colour)} on ${hex(background)}, ${size}px${bold ? ' bold' : ''})`);
    }
  };

  const textOf = (node) => {
    // The text a screen reader would read for a subtree: text, img alt, svg title.
    let text = '';
    for (const child of node.childNodes) {
      if (child.nodeType === 3) text += child.textContent;
      else if (child.nodeType === 1) {
        if (child.getAttribute('aria-hidden') === 'true' || child.hidden) continue;
        const tag = child.tagName.toLowerCase();
        if (tag === 'img') text += child.getAttribute('alt') || '';
        else if (child.hasAttribute('aria-label')) text += child.getAttribute('aria-label');
        else if (tag === 'svg') {
          const title = child.querySelector(':scope > title');
          text += title ? title.textContent : '';
        } else text += textOf(child);
      }
    }
    return text;
  };
  const labelledBy = (el) => {
    const ids = (el.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean);
    return ids.map((id) => document.getElementById(id))
      .filter(Boolean).map((ref) => textOf(ref)).join(' ').trim();
  };
  const accessibleName = (el) => {
    const byRef = labelledBy(el);
    if (byRef) return byRef;
    const label = (el.getAttribute('aria-label') || '').trim();
    if (label) return label;
    const tag = el.tagName.toLowerCase();
    if (tag === 'input') {
      const type = (el.getAttribute('type') || 'text').toLowerCase();
      if (type === 'image') return (el.getAttribute('alt') || '').trim();
      return (el.getAttribute('value') || '').trim();
    }
    if (tag === 'svg') {
      const title = el.querySelector(':scope > title');
      if (title && title.textContent.trim()) return title.textContent.trim();
    }
    const text = textOf(el).replace(/\s+/g, ' ').trim();
    return text || (el.getAttribute('title') || '').trim();
  };

  // lang
  const lang = document.documentElement.getAttribute('lang');
  if (lang !== 'zh-CN') report('lang', document.documentElement.cloneNode(false),
    `html lang is ${JSON.stringify(lang)}, expected "zh-CN"`);

  // label
  const unlabelledTypes = new Set(['hidden', 'submit', 'button', 'reset', 'image']);
  for (const el of document.querySelectorAll('input, select, textarea')) {
    const type = (el.getAttribute('type') || 'text').toLowerCase();
    if (el.tagName === 'INPUT' && unlabelledTypes.has(type)) continue;
    if (!rendered(el)) continue;
    let name = '';
    if (el.id) {
      for (const label of document.querySelectorAll(`label[for="${CSS.escape(el.id)}"]`)) {
        name += textOf(label);
      }
    }
    const wrapping = el.closest('label');
    if (wrapping) name += textOf(wrapping);
    name += ' ' + (el.getAttribute('aria-label') || '') + ' ' + labelledBy(el);
    if (!name.trim()) report('label', el, `${el.tagName.toLowerCase()} has no label`);
  }

  // img-alt
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) report('img-alt', img, 'img has no alt attribute');
  }

  // headings
  const headings = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6, [role="heading"]')]
    .filter((el) => el.checkVisibility({visibilityProperty: true}))
    .map((el) => ({el, level: el.getAttribute('role') === 'heading'
      ? parseInt(el.getAttribute('aria-level') || '2', 10)
      : parseInt(el.tagName.slice(1), 10)}));
  const h1s = headings.filter((h) => h.level === 1);
  if (h1s.length !== 1) report('headings', h1s[1] ? h1s[1].el : null,
    `${h1s.length} h1 elements, expected exactly one`);
  if (headings.length && headings[0].level !== 1) report('headings', headings[0].el,
    `the first heading is h${headings[0].level}, expected the h1`);
  for (let i = 1; i < headings.length; i++) {
    if (headings[i].level > headings[i - 1].level + 1) report('headings', headings[i].el,
      `h${headings[i - 1].level} is followed by h${headings[i].level}: a level skipped`);
  }

  // name
  const named = 'a[href], button, input[type="submit"], input[type="button"], ' +
    'input[type="reset"], input[type="image"], [role="button"], [role="link"], [role="img"]';
  for (const el of document.querySelectorAll(named)) {
    if (!rendered(el) && el.getAttribute('role') !== 'img') continue;
    if (!accessibleName(el)) {
      report('name', el, `${el.tagName.toLowerCase()} has no accessible name`);
    }
  }

  // contrast: every rendered text node against what is behind it
  const skip = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'TITLE', 'OPTION', 'DESC']);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    if (!el || seen.has(el) || skip.has(el.tagName.toUpperCase())) continue;
    seen.add(el);
    if (!rendered(el)) continue;
    if (el.closest('[disabled], [aria-disabled="true"]')) continue;  // inactive: exempt
    const range = document.createRange();
    range.selectNodeContents(node);
    const box = range.getBoundingClientRect();
    const own = el.getBoundingClientRect();
    // Visually hidden (for screen readers only): a box of a pixel or less.
    if (Math.min(box.width, box.height, own.width, own.height) <= 1) continue;
    if (el instanceof SVGElement) {
      // Chart text is painted with fill; judged against the page behind the chart.
      const svg = el.ownerSVGElement || el;
      const fill = getComputedStyle(el).fill;
      if (!fill || fill === 'none' || fill.startsWith('url(')) continue;
      const style = getComputedStyle(el);
      const background = backgroundOf(svg.parentElement);
      if (background === null) continue;
      const fg = rgba(fill);
      const colour = over([fg[0], fg[1], fg[2], fg[3] * opacityOf(el)], background);
      const size = parseFloat(style.fontSize);
      const bold = parseInt(style.fontWeight, 10) >= 700;
      const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
      const value = ratio(colour, background);
      if (value + 1e-6 < needed) report('contrast', el,
        `svg text: contrast ${value.toFixed(2)}:1 < ${needed}:1`);
      continue;
    }
    checkContrast(el, getComputedStyle(el).color, 'text');
  }
  // Text typed into a control, and placeholders, are text too.
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden' || !rendered(el) || el.disabled) continue;
    if (['checkbox', 'radio', 'submit', 'button', 'reset', 'image', 'color', 'range', 'file']
        .includes(el.type)) continue;
    checkContrast(el, getComputedStyle(el).color, 'control text');
    if (el.getAttribute('placeholder')) {
      checkContrast(el, getComputedStyle(el, '::placeholder').color, 'placeholder');
    }
  }
  // clipped: text wider than the box that shows it
  const ownText = (el) => [...el.childNodes]
    .some((n) => n.nodeType === 3 && n.textContent.trim());
  for (const el of document.querySelectorAll('body *')) {
    if (el instanceof SVGElement || !ownText(el) || !rendered(el)) continue;
    if (['SCRIPT', 'STYLE', 'TEXTAREA', 'SELECT', 'OPTION'].includes(el.tagName)) continue;
    // A box of a pixel or less is visually hidden on purpose (for screen readers only).
    if (el.clientWidth <= 1 || el.clientHeight <= 1) continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      report('clipped', el, `text ${el.scrollWidth}px wide in a box of ${el.clientWidth}px`);
    }
  }
  const measure = document.createElement('canvas').getContext('2d');
  const fits = (el, text, reserve) => {
    const style = getComputedStyle(el);
    measure.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = el.clientWidth - parseFloat(style.paddingLeft) -
      parseFloat(style.paddingRight) - reserve;
    return measure.measureText(text).width <= room + 0.5;
  };
  for (const el of document.querySelectorAll('input, select')) {
    if (!rendered(el) || ['hidden', 'checkbox', 'radio', 'range', 'color', 'file', 'image']
        .includes(el.type)) continue;
    if (el.tagName === 'SELECT') {
      // The arrow of a drop-down takes about 20px of its content box in Chromium.
      const chosen = el.selectedOptions[0];
      if (chosen && !fits(el, chosen.textContent.trim(), 20)) {
        report('clipped', el, `the chosen option "${chosen.textContent.trim()}" is cut off`);
      }
      continue;
    }
    const search = el.type === 'search' ? 20 : 0;  // room for the clear button
    for (const [what, text] of [['placeholder', el.placeholder], ['value', el.value]]) {
      if (text && !fits(el, text, search)) report('clipped', el, `the ${what} is cut off`);
    }
  }
  return problems;
}
"""


def audit(page) -> list[dict]:
    """The accessibility problems of the page as it is now: [{rule, message, element}]."""
    return page.evaluate(AUDIT_JS)


def format_problems(problems: list[dict]) -> str:
    return "\n".join(f"[{p['rule']}] {p['message']}: {p['element']}" for p in problems)


def assert_accessible(page) -> None:
    problems = audit(page)
    assert not problems, f"{page.url}:\n{format_problems(problems)}"


# Interactive elements a keyboard user must be able to reach, and a snapshot of how an
# element looks, to tell whether focus changes anything visible.
FOCUSABLE = (
    "a[href], button, input:not([type=hidden]), select, textarea, summary, "
    "[tabindex]:not([tabindex='-1'])"
)

_INSTALL_JS = r"""
() => {
  window.__kb = {elements: [], focused: []};
  window.__kbLook = (el) => {
    const s = getComputedStyle(el);
    return {
      outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor} ${s.outlineOffset}`,
      outlineVisible: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0,
      boxShadow: s.boxShadow,
      border: [s.borderTopColor, s.borderRightColor, s.borderBottomColor, s.borderLeftColor,
        s.borderTopWidth, s.borderBottomWidth].join(' '),
      background: s.backgroundColor,
      color: s.color,
      decoration: s.textDecorationLine,
    };
  };
}
"""

# Tab starts from the top: from a focused, untabbable marker put before everything else.
_START_JS = r"""
() => {
  window.scrollTo(0, 0);
  const marker = document.createElement('span');
  marker.id = '__kb_start';
  marker.tabIndex = -1;
  document.body.prepend(marker);
  marker.focus();
}
"""

_STEP_JS = r"""
() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return -1;
  if (el.id === '__kb_start') return -1;
  // A date input's fields (year, month, day) are Tab stops of one element, in a row.
  if (window.__kb.elements.at(-1) === el) return 2;
  if (window.__kb.elements.includes(el)) return 0;
  window.__kb.elements.push(el);
  window.__kb.focused.push(window.__kbLook(el));
  return 1;
}
"""

_REPORT_JS = r"""
(selector) => {
  const describe = (el) => {
    const html = el.outerHTML.replace(/\s+/g, ' ');
    return html.length > 140 ? html.slice(0, 137) + '...' : html;
  };
  if (document.activeElement) document.activeElement.blur();
  const marker = document.getElementById('__kb_start');
  if (marker) marker.remove();
  const reached = window.__kb.elements;
  const noIndicator = [];
  reached.forEach((el, i) => {
    const focused = window.__kb.focused[i];
    const plain = window.__kbLook(el);
    const outlineShows = focused.outline !== plain.outline && focused.outlineVisible;
    const otherShows = ['boxShadow', 'border', 'background', 'color', 'decoration']
      .some((key) => focused[key] !== plain[key]);
    if (!outlineShows && !otherShows) noIndicator.push(describe(el));
  });
  const unreachable = [];
  const radioGroups = new Set(reached.filter((el) => el.type === 'radio').map((el) => el.name));
  for (const el of document.querySelectorAll(selector)) {
    if (el.disabled || el.closest('[inert]')) continue;
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    if (el.getClientRects().length === 0) continue;
    if (reached.includes(el)) continue;
    if (el.type === 'radio' && radioGroups.has(el.name)) continue;
    unreachable.push(describe(el));
  }
  return {reached: reached.length, unreachable, noIndicator};
}
"""


def keyboard_walk(page, limit: int = 500) -> dict:
    """Tab from the top of the page until focus leaves the page or comes round again.

    Returns {"reached": n, "unreachable": [...], "noIndicator": [...]}: elements Tab never
    got to, and elements whose focused look (outline, shadow, border, colours, underline)
    equals their unfocused one.
    """
    page.evaluate(_INSTALL_JS)
    page.evaluate(_START_JS)
    seen_any = False
    for attempt in range(limit):
        page.keyboard.press("Tab")
        step = page.evaluate(_STEP_JS)
        if step == -1 and not seen_any and attempt < 3:
            continue  # focus may pass the document itself first
        if step == 2:
            continue
        if step != 1:
            break  # focus left the page after the last element, or came round again
        seen_any = True
    else:
        raise AssertionError(f"{page.url}: more than {limit} Tab stops")
    return page.evaluate(_REPORT_JS, FOCUSABLE)
