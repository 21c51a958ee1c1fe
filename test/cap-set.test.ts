// Reading what the process may hold from /proc/self/status text (@ersatz/os/cap-set): the CLI's guess, before it
// loads anything native, whether a link can open at all.
import test from 'ava';
import { Cap, permits } from '@ersatz/os/cap-set';

// The lines as Linux prints them: root (every capability up to 40), root after `setpriv --bounding-set=-net_raw`
// (bit 13 clear), and an ordinary user.
const status = (prm: string) => `Name:\tnode\nUmask:\t0022\nState:\tR (running)\nCapInh:\t0000000000000000\nCapPrm:\t${prm}\nCapEff:\t${prm}\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n`;

test('CapPrm decides: bit 13 is CAP_NET_RAW, bit 12 CAP_NET_ADMIN', (t) => {
  t.true(permits(Cap.NET_RAW, status('000001ffffffffff')));
  t.false(permits(Cap.NET_RAW, status('000001fffeffdfff')));
  t.true(permits(Cap.NET_ADMIN, status('000001fffeffdfff')));
  t.false(permits(Cap.NET_RAW, status('0000000000000000')));
  // A node binary given cap_net_raw,cap_net_admin+ep, run by a normal user.
  t.true(permits(Cap.NET_RAW, status('0000000000003000')));
  t.true(permits(Cap.NET_ADMIN, status('0000000000003000')));
});

test('no status to read, or no CapPrm line in it: unknown, not a no', (t) => {
  t.is(permits(Cap.NET_RAW, null), undefined);
  t.is(permits(Cap.NET_RAW, 'Name:\tnode\n'), undefined);
});

test('this process: root in the test run holds CAP_NET_RAW', (t) => {
  t.true(permits(Cap.NET_RAW));
});
