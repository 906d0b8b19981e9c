// Language choice (es/en), message lookup and locale-aware formatting.
import { createStore } from './store.js';
import es from './messages.es.js';
import en from './messages.en.js';

const CATALOGS = { es, en };
const STORAGE_KEY = 'dh.lang';
export const LANGUAGES = ['es', 'en'];

function storedLanguage() {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return LANGUAGES.includes(value) ? value : null;
  } catch {
    return null;
  }
}

// The first of the browser's languages that we speak (es* → es, en* → en); English otherwise.
function browserLanguage() {
  const wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ''];
  for (const tag of wanted) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return 'en';
}

export const language = createStore(storedLanguage() || browserLanguage());

function applyToDocument(lang) {
  document.documentElement.lang = lang;
}
applyToDocument(language.get());

export function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) return;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    /* private mode: the choice lasts until reload */
  }
  applyToDocument(lang);
  language.set(lang);
}

export function has(key) {
  return key in CATALOGS[language.get()] || key in CATALOGS.en;
}

// t('order.title', { id }) → the message in the current language with {id} filled in.
export function t(key, params) {
  const catalog = CATALOGS[language.get()];
  let text = key in catalog ? catalog[key] : key in CATALOGS.en ? CATALOGS.en[key] : key;
  if (params) text = text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  return text;
}

const locale = () => (language.get() === 'es' ? 'es-ES' : 'en-GB');

function fractionDigits(currency) {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

// Amounts are integers of minor units (1250 EUR → €12.50).
export function formatMoney(minor, currency) {
  if (typeof minor !== 'number') return '';
  const digits = fractionDigits(currency);
  try {
    return new Intl.NumberFormat(locale(), { style: 'currency', currency }).format(minor / 10 ** digits);
  } catch {
    return `${(minor / 10 ** digits).toFixed(digits)} ${currency}`;
  }
}

// "12.50" or "12,50" in major units → 1250; NaN when it is not an amount.
export function parseMoney(text, currency) {
  const value = String(text).trim().replace(',', '.');
  const digits = fractionDigits(currency);
  const match = /^(\d+)(?:\.(\d+))?$/.exec(value);
  if (!match || (match[2] || '').length > digits) return NaN;
  return Number(match[1]) * 10 ** digits + Number((match[2] || '').padEnd(digits, '0') || 0);
}

export function formatDateTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}
