// The customer's cart, in memory only (gone on reload or sign-out).
import { createStore } from './store.js';
import { idempotency } from './api.js';

export const cart = createStore([]); // [{ sku, name, price, currency, quantity }]

// One Idempotency-Key per cart submission, kept for retries of the same order.
export const orderIdempotency = idempotency();

export function addToCart(product) {
  cart.set((lines) => {
    const line = lines.find((l) => l.sku === product.sku);
    if (line) return lines.map((l) => (l === line ? { ...l, quantity: Math.min(100, l.quantity + 1) } : l));
    return [...lines, { sku: product.sku, name: product.name, price: product.price, currency: product.currency, quantity: 1 }];
  });
}

export function setQuantity(sku, quantity) {
  const q = Math.max(0, Math.min(100, Math.floor(Number(quantity) || 0)));
  cart.set((lines) => (q === 0 ? lines.filter((l) => l.sku !== sku) : lines.map((l) => (l.sku === sku ? { ...l, quantity: q } : l))));
}

export const clearCart = () => cart.set([]);
export const cartCount = (lines) => lines.reduce((n, l) => n + l.quantity, 0);
