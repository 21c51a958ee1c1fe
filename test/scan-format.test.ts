// scan --format, arp-scan's output template: fields, widths, escapes, and one-line errors for what it cannot print.
// The same template beside arp-scan's own output: scan-e2e.
import test from 'ava';
import { compileFormat, UsageError, type HostFields } from '@ersatz/cli';

const host: HostFields = { ip: '192.0.2.7', mac: '02:00:5e:00:53:07', hdrmac: '', vendor: '(Unknown: locally administered)', vlan: '', dup: '', rtt: '0.412' };

test('fields by name in any case, widths right- and left-aligned, a longer value never cut', (t) => {
  t.is(compileFormat('${ip}\\t${MAC}\\t${Vendor}')(host), '192.0.2.7\t02:00:5e:00:53:07\t(Unknown: locally administered)');
  t.is(compileFormat('[${ip;12}][${ip;-12}][${vendor;5}]')(host), '[   192.0.2.7][192.0.2.7   ][(Unknown: locally administered)]');
  t.is(compileFormat('${rtt} ms${dup}${hdrmac}${vlan}${framing}${proto}')(host), '0.412 ms');
  t.is(compileFormat('${dup} ${hdrmac} ${vlan}')({ ...host, dup: '2', hdrmac: '02:00:5e:00:53:99', vlan: '42' }), '2 02:00:5e:00:53:99 42');
});

test('escapes: \\n \\r \\t, and a backslash takes the next character as it is; other text is verbatim', (t) => {
  t.is(compileFormat('a\\$b\\\\c\\nd\\re\\tf${ip}$ {x} $')(host), 'a$b\\c\nd\re\tf192.0.2.7$ {x} $');
  t.is(compileFormat('')(host), '');
  t.is(compileFormat('end\\')(host), 'end\\');
});

test('an unknown field, a field ersatz does not keep, a bad width or an unclosed ${ are one-line usage errors', (t) => {
  for (const [template, why] of [
    ['${nosuch}', /no field \$\{nosuch\}: choose ip, mac, hdrmac, vendor, vlan, dup, rtt, framing, proto$/],
    ['${name}', /no field \$\{name\}/],
    ['${padding}', /no field \$\{padding\}/],
    ['${constructor}', /no field \$\{constructor\}/],
    ['${__proto__}', /no field \$\{__proto__\}/],
    ['${ip;wide}', /\$\{ip;wide\}: the width is a whole number/],
    ['${ip;3;4}', /\$\{ip;3;4\}: the width is a whole number/],
    ['x${ip', /"\$\{" at 2 has no closing "\}"/],
  ] as const) {
    const err = t.throws(() => compileFormat(template), { instanceOf: UsageError }, template);
    t.regex(err?.message ?? '', /^scan: --format: /);
    t.regex(err?.message ?? '', why);
  }
});
