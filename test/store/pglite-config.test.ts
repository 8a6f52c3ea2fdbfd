import { expect, it } from 'vitest';
import { openPglite } from '../../src/store/sql.js';

it('the embedded store runs with small shared buffers (it is one process, not a server)', async () => {
  const driver = await openPglite('memory://');
  try {
    const rows = await driver.query('show shared_buffers');
    expect(rows[0]?.['shared_buffers']).toBe('16MB');
  } finally {
    await driver.close();
  }
});
