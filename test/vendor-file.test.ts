// A user's vendor file in arp-scan's format (scan --ouifile, ERSATZ_OUI_FILE): prefixes of any length with or without
// separators, the longest match wins, the first entry of a prefix stands, and a bad line is named.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { Mac } from '@ersatz/wire';
import { VendorError, VendorFile, VendorFileError } from '@ersatz/vendor';

const mac = (text: string): Mac => Mac.parse(text);

test('longest prefix wins, separators and case are ignored, comments and blank lines skipped', (t) => {
  const file = VendorFile.parse(['# mine', '', '525400\tQEMU virtual NIC', '52:54:00:12\tOur test rig', '52-54-00-12-34-56\tThe one box', 'AB\tShort', 'ab\tSecond entry for AB'].join('\n'), 'mine.txt');
  t.is(file.size, 4);
  t.is(file.lookup(mac('52:54:00:aa:bb:cc')), 'QEMU virtual NIC');
  t.is(file.lookup(mac('52:54:00:12:00:01')), 'Our test rig');
  t.is(file.lookup(mac('52:54:00:12:34:56')), 'The one box');
  t.is(file.lookup(mac('AB:00:00:00:00:01')), 'Short', 'the first entry for a prefix stands');
  t.is(file.lookup(mac('00:00:0c:12:34:56')), null);
});

test('a line that is not a prefix and a name is named by file and line', (t) => {
  for (const [text, line, why] of [
    ['525400\tQEMU\nnot-hex\tX', 2, /"not-hex" is not 2 to 12 hex digits/],
    ['5\tToo short', 1, /"5" is not 2 to 12 hex digits/],
    ['5254000000001\tThirteen digits', 1, /is not 2 to 12 hex digits/],
    ['# ok\n525400', 2, /"525400" is not a MAC prefix, a tab and a name/],
  ] as const) {
    const err = t.throws(() => VendorFile.parse(text, '/etc/v.txt'), { instanceOf: VendorFileError });
    t.true(err instanceof VendorError);
    t.is(err?.line, line);
    t.regex(err?.message ?? '', new RegExp(`^vendor file /etc/v\\.txt:${line}: `));
    t.regex(err?.message ?? '', why);
  }
});

// arp-scan's own registry file, where the Debian package is installed (as the suite's setup installs it).
const ARP_SCAN_OUI = '/usr/share/arp-scan/ieee-oui.txt';
test('arp-scan\'s ieee-oui.txt reads as such a file', (t) => {
  if (!existsSync(ARP_SCAN_OUI)) return t.fail(`${ARP_SCAN_OUI} missing: run scripts/setup.sh (it installs arp-scan)`);
  const file = VendorFile.parse(readFileSync(ARP_SCAN_OUI, 'utf8'), ARP_SCAN_OUI);
  t.true(file.size > 40_000, String(file.size));
  t.regex(file.lookup(mac('00:00:0c:12:34:56')) ?? '', /^Cisco/);
});
