import test from 'ava';
import { Mac } from '@ersatz/wire';
import { LOCALLY_ADMINISTERED, isVendorDataLoaded, vendorOf } from '@ersatz/vendor';

// Its own file, so its own process (workerThreads: false): nothing else has loaded the data before these run.

test.serial('importing, and looking up locally administered addresses, loads no data', (t) => {
  t.false(isVendorDataLoaded());
  t.is(vendorOf(Mac.parse('02:00:5e:10:00:01')), LOCALLY_ADMINISTERED);
  t.is(vendorOf(Mac.BROADCAST), LOCALLY_ADMINISTERED);
  t.false(isVendorDataLoaded());
});

test.serial('the first lookup that needs a registry loads it, once', (t) => {
  t.is(vendorOf(Mac.parse('00:00:0c:12:34:56')), 'Cisco Systems, Inc');
  t.true(isVendorDataLoaded());
  t.is(vendorOf(Mac.parse('00:00:0c:65:43:21')), 'Cisco Systems, Inc');
});
