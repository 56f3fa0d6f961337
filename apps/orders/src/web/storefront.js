// The storefront: products with live stock, a cart, checkout, my orders, and an
// order's journey through the services as it is recorded (Server-Sent Events).
import { ApiError, api, clearFieldErrors, clock, connection, field, h, money, render, session, showFieldErrors, showWho, signInView, sleep } from './common.js';

const LANES = ['orders', 'payment', 'inventory', 'shipping'];
const LABELS = {
  OrderPlaced: 'Order placed',
  OrderConfirmed: 'Order confirmed',
  OrderCancelled: 'Order cancelled',
  OrderCompleted: 'Order completed',
  PaymentAuthorized: 'Payment authorized',
  PaymentDeclined: 'Payment declined',
  PaymentRefunded: 'Payment refunded',
  StockReserved: 'Stock reserved',
  StockUnavailable: 'Out of stock',
  StockReleased: 'Stock released',
  StockCommitted: 'Stock committed',
  ShipmentPrepared: 'Label prepared',
  PickupScheduled: 'Pickup scheduled',
  ShipmentCancelled: 'Shipment cancelled',
};
const TONE = {
  PaymentDeclined: 'bad',
  StockUnavailable: 'bad',
  OrderCancelled: 'bad',
  PaymentRefunded: 'undo',
  StockReleased: 'undo',
  ShipmentCancelled: 'undo',
  OrderCompleted: 'good',
  StockCommitted: 'good',
};
const REASONS = {
  PAYMENT_DECLINED: 'the payment was declined',
  OUT_OF_STOCK: 'an item is out of stock',
  CUSTOMER_CANCELLED: 'you cancelled it',
  TIMEOUT: 'a service did not answer in time',
};
const PRODUCTS_REFRESH_MS = 3000;

/** What the current view must stop (timers, streams) when another one replaces it. */
let leaveView = () => {};

// ---- cart and checkout state (kept for this tab) ----------------------------------

const cart = new Map(JSON.parse(sessionStorage.getItem('orderflow.cart') || '[]'));
const saveCart = () => sessionStorage.setItem('orderflow.cart', JSON.stringify([...cart]));

/**
 * One Idempotency-Key per checkout: a double click, or a retry after the
 * connection dropped, sends the same key and body, and the server makes one order.
 * A new checkout (the cart changed, or an order was placed) gets a new key.
 */
let checkoutKey = newKey();
function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `checkout-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

// ---- routing -----------------------------------------------------------------

function route() {
  leaveView();
  leaveView = () => {};
  showWho(route);
  if (!session.token) return signInView({ operator: false, onSignedIn: () => ((location.hash = '#/'), route()) });
  const hash = location.hash || '#/';
  const order = /^#\/orders\/([^/]+)$/.exec(hash);
  if (order) return orderView(decodeURIComponent(order[1]));
  if (hash === '#/orders') return ordersView();
  return shopView();
}

/** A 401 anywhere means the token expired or was refused: back to sign-in. */
function handleAuth(error) {
  if (error instanceof ApiError && error.status === 401) {
    session.token = undefined;
    route();
    return true;
  }
  return false;
}

// ---- shop ---------------------------------------------------------------------

function shopView() {
  const products = new Map();
  const rows = h('tbody');
  const cartList = h('ul', { class: 'cart-lines', 'aria-label': 'Cart contents' });
  const cartTotal = h('p', { class: 'total' });
  const cartError = h('p', { class: 'form-error', role: 'alert' });
  const catalogStatus = h('p', { class: 'hint', role: 'status' }, 'Loading products…');

  const availability = (p) =>
    h('span', { class: p.available === 0 ? 'none' : p.available < 5 ? 'low' : '' }, p.available === 0 ? 'Sold out' : `${p.available} available`);

  function drawProducts(list) {
    for (const p of list) {
      const known = products.get(p.sku);
      products.set(p.sku, p);
      if (known) {
        // Only the stock cell changes: a quantity being typed is left alone.
        rows.querySelector(`[data-available="${CSS.escape(p.sku)}"]`)?.replaceChildren(availability(p));
        continue;
      }
      const quantity = h('input', { type: 'number', class: 'qty', min: 1, max: 10000, value: 1, inputmode: 'numeric', 'aria-label': `Quantity of ${p.name}` });
      rows.append(
        h(
          'tr',
          { dataset: { sku: p.sku } },
          h('td', {}, p.name, h('br'), h('span', { class: 'hint' }, p.sku)),
          h('td', { class: 'num' }, money(p.unitPrice, p.currency)),
          h('td', { dataset: { available: p.sku } }, availability(p)),
          h('td', {}, quantity),
          h(
            'td',
            {},
            h(
              'button',
              {
                type: 'button',
                'aria-label': `Add ${p.name} to cart`,
                onclick: () => {
                  const n = Number(quantity.value);
                  if (!Number.isInteger(n) || n < 1) {
                    cartError.textContent = `Quantity of ${p.name} must be a whole number of at least 1.`;
                    quantity.focus();
                    return;
                  }
                  cart.set(p.sku, (cart.get(p.sku) || 0) + n);
                  checkoutKey = newKey();
                  saveCart();
                  drawCart();
                },
              },
              'Add to cart',
            ),
          ),
        ),
      );
    }
    drawCart();
  }

  function drawCart() {
    cartError.textContent = '';
    let total = 0;
    let currency = 'EUR';
    const lines = [...cart].map(([sku, quantity]) => {
      const p = products.get(sku);
      if (p) {
        total += p.unitPrice * quantity;
        currency = p.currency;
      }
      const name = p ? p.name : sku;
      return h(
        'li',
        { dataset: { sku } },
        h('span', {}, `${quantity} × ${name}`),
        h('span', { class: 'num' }, p ? money(p.unitPrice * quantity, p.currency) : ''),
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            'aria-label': `Remove ${name} from cart`,
            onclick: () => {
              cart.delete(sku);
              checkoutKey = newKey();
              saveCart();
              drawCart();
            },
          },
          'Remove',
        ),
      );
    });
    cartList.replaceChildren(...(lines.length ? lines : [h('li', {}, 'Your cart is empty.')]));
    cartTotal.textContent = lines.length ? `Total ${money(total, currency)}` : '';
  }

  let stopped = false;
  (async () => {
    for (let first = true; !stopped; first = false) {
      try {
        drawProducts(await api('GET', '/products'));
        catalogStatus.textContent = products.size ? '' : 'No products yet: the catalog is still arriving from inventory.';
      } catch (error) {
        if (handleAuth(error)) return;
        if (first) catalogStatus.textContent = error.message;
      }
      await sleep(PRODUCTS_REFRESH_MS);
    }
  })();
  leaveView = () => (stopped = true);

  render(
    h('h1', {}, 'Shop'),
    h(
      'div',
      { class: 'shop' },
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'products-title' },
        h('h2', { id: 'products-title' }, 'Products'),
        h('p', { class: 'hint' }, 'Stock is live: it changes as other customers order.'),
        catalogStatus,
        h(
          'table',
          { class: 'products' },
          h('caption', { class: 'hint' }, 'Products, prices and stock'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Product'), h('th', { scope: 'col', class: 'num' }, 'Price'), h('th', { scope: 'col' }, 'Stock'), h('th', { scope: 'col' }, 'Quantity'), h('th', { scope: 'col' }, h('span', { class: 'hint' }, 'Action')))),
          rows,
        ),
      ),
      h(
        'div',
        {},
        h('section', { class: 'card', 'aria-labelledby': 'cart-title' }, h('h2', { id: 'cart-title' }, 'Cart'), cartList, cartTotal, cartError),
        checkoutForm(() => [...cart].map(([sku, quantity]) => ({ sku, quantity })), cartError),
      ),
    ),
  );
}

function checkoutForm(items, cartError) {
  const input = (name, value, extra = {}) => h('input', { name, value, 'data-field': `shippingAddress.${name}`, ...extra });
  const formError = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit' }, 'Place order');
  const method = (token, label) =>
    h('label', {}, h('input', { type: 'radio', name: 'payment', value: token, checked: token === 'tok_visa', 'data-field': 'payment.token' }), label);
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'checkout-title', novalidate: true, onsubmit: (event) => place(event) },
    h('h2', { id: 'checkout-title' }, 'Checkout'),
    field('ship-name', 'Name', input('name', 'Ada Lovelace', { autocomplete: 'name' })),
    field('ship-line1', 'Address', input('line1', '12 St James Square', { autocomplete: 'address-line1' })),
    field('ship-city', 'City', input('city', 'London', { autocomplete: 'address-level2' })),
    field('ship-postal', 'Postal code', input('postalCode', 'SW1Y 4JH', { autocomplete: 'postal-code' })),
    field('ship-country', 'Country', input('country', 'GB', { autocomplete: 'country', maxlength: 2 }), 'Two-letter code, e.g. GB, DE, FR'),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Payment method'),
      method('tok_visa', 'Card that approves (tok_visa)'),
      method('tok_declined', 'Card that is declined (tok_declined)'),
    ),
    submit,
    formError,
  );

  async function place(event) {
    event.preventDefault();
    if (submit.disabled) return;
    clearFieldErrors(form);
    const lines = items();
    if (!lines.length) {
      cartError.textContent = 'Your cart is empty: add a product first.';
      return;
    }
    const data = new FormData(form);
    const body = {
      items: lines,
      payment: { token: String(data.get('payment') || '') },
      shippingAddress: Object.fromEntries(['name', 'line1', 'city', 'postalCode', 'country'].map((k) => [k, String(data.get(k) || '').trim()])),
    };
    submit.disabled = true;
    submit.textContent = 'Placing order…';
    try {
      const placed = await api('POST', '/orders', { body, headers: { 'idempotency-key': checkoutKey } });
      cart.clear();
      saveCart();
      checkoutKey = newKey();
      location.hash = `#/orders/${encodeURIComponent(placed.orderId)}`;
    } catch (error) {
      if (handleAuth(error)) return;
      if (error.status === 400) {
        const rest = showFieldErrors(form, error.body.details);
        const items = rest.filter((d) => d.field.startsWith('items'));
        if (items.length) cartError.textContent = items.map((d) => `${describeItem(d.field, lines)} ${d.message}.`).join(' ');
        const other = rest.filter((d) => !d.field.startsWith('items'));
        if (other.length || !error.body.details) formError.textContent = other.length ? other.map((d) => `${d.field} ${d.message}.`).join(' ') : error.message;
      } else if (error.status === 422) {
        // Same key, other body: the first attempt went through with other details.
        checkoutKey = newKey();
        formError.textContent = 'This checkout was already placed with other details (see My orders). Submit again to place a new order with these.';
      } else if (error.status === 409) {
        formError.textContent = `The order could not be placed right now (${error.message}). Submit again: it will not be placed twice.`;
      } else if (error.status === 0) {
        formError.textContent = 'Orderflow could not be reached. Submit again when the connection is back: the order will not be placed twice.';
      } else {
        formError.textContent = error.message;
      }
    } finally {
      submit.disabled = false;
      submit.textContent = 'Place order';
    }
  }
  return form;
}

function describeItem(path, lines) {
  const index = /^items\[(\d+)\]/.exec(path);
  const line = index ? lines[Number(index[1])] : undefined;
  return line ? `Cart line ${line.sku}:` : 'Cart:';
}

// ---- my orders ----------------------------------------------------------------

function ordersView() {
  const list = h('ul', { class: 'orders-list', 'aria-label': 'Your orders' });
  const status = h('p', { class: 'hint', role: 'status' }, 'Loading your orders…');
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load more orders');
  let cursor;
  async function load() {
    more.disabled = true;
    try {
      const page = await api('GET', `/orders?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      for (const o of page.orders) {
        list.append(
          h(
            'li',
            { dataset: { orderId: o.orderId } },
            h('a', { href: `#/orders/${encodeURIComponent(o.orderId)}` }, `Order ${o.orderId.slice(0, 8)}`),
            h('span', { class: `status ${o.status}` }, o.status),
            h('span', {}, money(o.total, o.currency)),
            h('span', { class: 'hint' }, `placed ${new Date(o.placedAt).toLocaleString()}`),
          ),
        );
      }
      cursor = page.next;
      more.hidden = !cursor;
      status.textContent = list.children.length ? '' : 'You have no orders yet.';
    } catch (error) {
      if (!handleAuth(error)) status.textContent = error.message;
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener('click', load);
  render(h('h1', {}, 'My orders'), h('section', { class: 'card' }, status, list, more));
  void load();
}

// ---- one order, live ----------------------------------------------------------

function orderView(orderId) {
  const statusBadge = h('span', { class: 'status' }, '…');
  const reason = h('span', {});
  const statusLine = h('p', { role: 'status', 'aria-live': 'polite', class: 'order-head' }, h('span', {}, 'Status: '), statusBadge, reason);
  const liveState = h('span', { class: 'live' }, 'Connecting to live updates…');
  const actionMessage = h('p', { class: 'form-error', role: 'alert' });
  const cancel = h('button', { type: 'button', class: 'danger', hidden: true, onclick: () => cancelOrder() }, 'Cancel order');
  const items = h('ul', { class: 'cart-lines', 'aria-label': 'Items' });
  const total = h('p', { class: 'total' });
  const announcer = h('p', { class: 'sr-only', 'aria-live': 'polite' });
  const lanes = Object.fromEntries(LANES.map((lane) => [lane, h('ol', { 'aria-label': `${lane} events` })]));
  const seen = new Set();
  let statusStreamed = false;

  function showStatus(s) {
    statusBadge.className = `status ${s.status}`;
    statusBadge.textContent = s.status;
    reason.textContent = s.reason ? `because ${REASONS[s.reason] || s.reason}` : '';
    cancel.hidden = !s.cancellable;
  }

  function record(entry) {
    if (seen.has(entry.version)) return;
    seen.add(entry.version);
    const lane = lanes[entry.source] || lanes.orders;
    lane.append(
      h('li', { class: TONE[entry.type] || '', dataset: { type: entry.type, version: entry.version } }, LABELS[entry.type] || entry.type, h('time', { datetime: entry.at }, clock(entry.at))),
    );
    announcer.textContent = `${entry.source}: ${LABELS[entry.type] || entry.type}`;
  }

  async function cancelOrder() {
    actionMessage.textContent = '';
    cancel.disabled = true;
    try {
      await api('POST', `/orders/${encodeURIComponent(orderId)}/cancel`);
      actionMessage.textContent = '';
    } catch (error) {
      if (handleAuth(error)) return;
      actionMessage.textContent =
        error.status === 409 ? `This order can no longer be cancelled: ${error.message}. Payment, stock and shipping have already moved on.` : error.message;
    } finally {
      cancel.disabled = false;
    }
  }

  const controller = new AbortController();
  leaveView = () => controller.abort();

  render(
    h('h1', {}, `Order ${orderId.slice(0, 8)}`),
    h(
      'section',
      { class: 'card' },
      statusLine,
      h('p', { class: 'hint' }, `Order id ${orderId}`),
      items,
      total,
      cancel,
      actionMessage,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'timeline-title' },
      h('div', { class: 'order-head' }, h('h2', { id: 'timeline-title' }, 'Timeline'), liveState),
      h(
        'div',
        { class: 'lanes' },
        LANES.map((lane) => h('section', { class: 'lane', 'aria-labelledby': `lane-${lane}`, dataset: { lane } }, h('h3', { id: `lane-${lane}` }, lane), lanes[lane])),
      ),
      announcer,
    ),
  );

  (async () => {
    try {
      const [view, catalog] = await Promise.all([
        api('GET', `/orders/${encodeURIComponent(orderId)}`, { signal: controller.signal }),
        api('GET', '/products', { signal: controller.signal }).catch(() => []),
      ]);
      const names = new Map(catalog.map((p) => [p.sku, p.name]));
      items.replaceChildren(
        ...view.items.map((i) => h('li', {}, `${i.quantity} × ${names.get(i.sku) || i.sku}`, h('span', {}, money(i.unitPrice * i.quantity, view.currency)))),
      );
      total.textContent = `Total ${money(view.total, view.currency)}`;
      // The stream may have told a newer status while this answer was on its way.
      if (!statusStreamed) showStatus({ status: view.status, reason: view.reason, cancellable: view.status === 'PENDING' || view.status === 'CONFIRMED' });
    } catch (error) {
      if (error.name === 'AbortError' || handleAuth(error)) return;
      if (error.status === 404) {
        render(h('h1', {}, 'Order not found'), h('p', {}, 'There is no such order among yours.'), h('a', { href: '#/orders' }, 'Back to my orders'));
        controller.abort();
        return;
      }
    }
  })();

  void follow(orderId, controller.signal, {
    record,
    status: (s) => {
      statusStreamed = true;
      showStatus(s);
    },
    state: (state) => {
      liveState.textContent = state === 'live' ? 'Live' : 'Reconnecting…';
      liveState.dataset.state = state;
    },
  });
}

/**
 * Reads the order's event stream with fetch (EventSource cannot send the
 * Authorization header) and reconnects with Last-Event-ID after the newest event
 * it has, so a restart of the server loses and repeats nothing.
 */
async function follow(orderId, signal, on) {
  let last = 0;
  let delay = 500;
  while (!signal.aborted) {
    try {
      const response = await fetch(`/orders/${encodeURIComponent(orderId)}/stream`, {
        signal,
        cache: 'no-store',
        headers: { authorization: `Bearer ${session.token}`, accept: 'text/event-stream', 'last-event-id': String(last) },
      });
      if (response.status === 401) return handleAuth(new ApiError(401, {}));
      if (response.status === 404) return;
      if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
      connection.ok();
      on.state('live');
      delay = 500;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const message = parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (message?.event === 'recorded') {
            last = Math.max(last, message.data.version);
            on.record(message.data);
          } else if (message?.event === 'status') on.status(message.data);
        }
      }
      throw new Error('stream ended');
    } catch (error) {
      if (signal.aborted) return;
      connection.lost();
      on.state('lost');
      await sleep(delay);
      delay = Math.min(delay * 2, 4000);
    }
  }
}

function parse(block) {
  let event = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
  }
  return data.length ? { event, data: JSON.parse(data.join('\n')) } : undefined;
}

window.addEventListener('hashchange', route);
route();
