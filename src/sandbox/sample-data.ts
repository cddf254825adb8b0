import type { SandboxEngine } from './types.js';

/**
 * The `shop` sample schema, the same rows in both engines. Content is a pure function of the row
 * number, so a restored copy can be checked against known counts and sums (see sampleSummary)
 * without keeping the original around.
 */
export const SAMPLE_DB = 'shop';

export const SAMPLE_COUNTS = { customers: 500, orders: 2000, order_items: 4000 } as const;

const ITEMS_PER_ORDER = SAMPLE_COUNTS.order_items / SAMPLE_COUNTS.orders;
const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'NL', 'SE', 'JP', 'BR'];
const STATUSES = ['shipped', 'shipped', 'shipped', 'shipped', 'shipped', 'shipped', 'shipped', 'paid', 'paid', 'cancelled'];
const CUSTOMERS_FROM = Date.UTC(2024, 0, 1);
const ORDERS_FROM = Date.UTC(2024, 1, 1);

interface Customer { id: number; name: string; email: string; country: string; createdAt: number }
interface Order { id: number; customerId: number; status: string; createdAt: number; totalCents: number }
interface Item { orderId: number; lineNo: number; product: string; quantity: number; priceCents: number }

function customer(i: number): Customer {
  return {
    id: i,
    name: `Customer ${i}`,
    email: `customer${i}@example.com`,
    country: COUNTRIES[i % COUNTRIES.length]!,
    createdAt: CUSTOMERS_FROM + i * 3_600_000,
  };
}

function item(orderId: number, lineNo: number): Item {
  return {
    orderId,
    lineNo,
    product: `Product ${((orderId * 7 + lineNo * 13) % 50) + 1}`,
    quantity: 1 + ((orderId + lineNo) % 4),
    priceCents: 199 + ((orderId * 31 + lineNo * 17) % 5000),
  };
}

function order(j: number): Order {
  let total = 0;
  for (let l = 1; l <= ITEMS_PER_ORDER; l++) {
    const it = item(j, l);
    total += it.quantity * it.priceCents;
  }
  return {
    id: j,
    customerId: ((j * 37) % SAMPLE_COUNTS.customers) + 1,
    status: STATUSES[j % STATUSES.length]!,
    createdAt: ORDERS_FROM + j * 17 * 60_000,
    totalCents: total,
  };
}

/** Facts about the sample that a verification can compare against after a restore. */
export function sampleSummary(): { counts: typeof SAMPLE_COUNTS; ordersTotalCents: number; lastOrderAt: string } {
  let sum = 0;
  for (let j = 1; j <= SAMPLE_COUNTS.orders; j++) sum += order(j).totalCents;
  return {
    counts: SAMPLE_COUNTS,
    ordersTotalCents: sum,
    lastOrderAt: new Date(order(SAMPLE_COUNTS.orders).createdAt).toISOString(),
  };
}

function ddl(engine: SandboxEngine): string[] {
  const ts = engine === 'postgres' ? 'timestamptz' : 'datetime(6)';
  const tail = engine === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4' : '';
  return [
    `CREATE TABLE customers (
      id integer PRIMARY KEY,
      name varchar(100) NOT NULL,
      email varchar(200) NOT NULL UNIQUE,
      country char(2) NOT NULL,
      created_at ${ts} NOT NULL
    )${tail}`,
    `CREATE TABLE orders (
      id integer PRIMARY KEY,
      customer_id integer NOT NULL REFERENCES customers (id),
      status varchar(20) NOT NULL,
      created_at ${ts} NOT NULL,
      total_cents bigint NOT NULL
    )${tail}`,
    `CREATE INDEX orders_created_at ON orders (created_at)`,
    `CREATE TABLE order_items (
      order_id integer NOT NULL REFERENCES orders (id),
      line_no integer NOT NULL,
      product varchar(100) NOT NULL,
      quantity integer NOT NULL,
      price_cents integer NOT NULL,
      PRIMARY KEY (order_id, line_no)
    )${tail}`,
  ].map((s) => s.replace(/\s+/g, ' '));
}

/** Values are generated here and contain no quotes, but quote them properly anyway. */
function lit(v: string | number): string {
  return typeof v === 'number' ? String(v) : `'${v.replace(/'/g, "''")}'`;
}

function time(engine: SandboxEngine, ms: number): string {
  const iso = new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
  // MariaDB's DATETIME has no zone; both sides mean UTC.
  return lit(engine === 'postgres' ? `${iso}+00` : iso);
}

function inserts(table: string, columns: string[], rows: string[][], batch = 500): string[] {
  const out: string[] = [];
  for (let i = 0; i < rows.length; i += batch) {
    const values = rows.slice(i, i + batch).map((r) => `(${r.join(', ')})`).join(', ');
    out.push(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values}`);
  }
  return out;
}

/** The statements that create and fill the sample tables, in order, for one engine. */
export function sampleStatements(engine: SandboxEngine): string[] {
  const customers: string[][] = [];
  for (let i = 1; i <= SAMPLE_COUNTS.customers; i++) {
    const c = customer(i);
    customers.push([lit(c.id), lit(c.name), lit(c.email), lit(c.country), time(engine, c.createdAt)]);
  }
  const orders: string[][] = [];
  const items: string[][] = [];
  for (let j = 1; j <= SAMPLE_COUNTS.orders; j++) {
    const o = order(j);
    orders.push([lit(o.id), lit(o.customerId), lit(o.status), time(engine, o.createdAt), lit(o.totalCents)]);
    for (let l = 1; l <= ITEMS_PER_ORDER; l++) {
      const it = item(j, l);
      items.push([lit(it.orderId), lit(it.lineNo), lit(it.product), lit(it.quantity), lit(it.priceCents)]);
    }
  }
  return [
    ...ddl(engine),
    ...inserts('customers', ['id', 'name', 'email', 'country', 'created_at'], customers),
    ...inserts('orders', ['id', 'customer_id', 'status', 'created_at', 'total_cents'], orders),
    ...inserts('order_items', ['order_id', 'line_no', 'product', 'quantity', 'price_cents'], items),
  ];
}
