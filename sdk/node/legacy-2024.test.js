'use strict';
// The newest 0.5.x @dfns/sdk (npm alias `dfns-sdk-05`) against `dfns-mock --contract 2024-08-19`: the client
// of the 2024 API (it sends X-DFNS-APPID and X-DFNS-NONCE) on the reads a team makes first, each error
// check beside the call that succeeds. The profile path is DFNS_PROFILE_2024 (sdk/run.py sets it).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { DfnsApiClient, DfnsError } = require('dfns-sdk-05');
const { loadProfile, rejectionOf } = require('./lib/profile');

const profile = loadProfile('DFNS_PROFILE_2024');

function client(options = {}) {
  return new DfnsApiClient({ baseUrl: profile.baseUrl, appId: profile.appId, authToken: profile.authToken, ...options });
}

/** The DfnsError `promise` rejects with, after checking it is one (the 0.5.x SDK's own error class). */
function dfnsErrorOf(promise) {
  return rejectionOf(promise, DfnsError);
}

test('0.5.x listWallets lists the seeded wallet', async () => {
  const listed = await client().wallets.listWallets({});
  assert.ok(listed.items.some((wallet) => wallet.id === profile.walletId));
});

test('0.5.x getWallet returns the seeded wallet', async () => {
  const wallet = await client().wallets.getWallet({ walletId: profile.walletId });
  assert.equal(wallet.id, profile.walletId);
});

test('0.5.x getWallet of an unknown wallet is a 404 DfnsError', async () => {
  const error = await dfnsErrorOf(client().wallets.getWallet({ walletId: 'wa-00000-00000-0000000000000000' }));
  assert.equal(error.httpStatus, 404);
  // The 2024 page documents no message for an unknown wallet (its 404 is "application not found"): the check
  // is that the client exposes the server's message as its own.
  assert.equal(typeof error.context.body.error.message, 'string');
  assert.equal(error.message, error.context.body.error.message);
  assert.ok(error.context.url.endsWith('/wallets/wa-00000-00000-0000000000000000'));
});

test('0.5.x with a bad token is a 401 DfnsError', async () => {
  const error = await dfnsErrorOf(client({ authToken: `${profile.authToken}x` }).wallets.listWallets({}));
  assert.equal(error.httpStatus, 401);
  assert.equal(error.message, 'Not Authorized.'); // errors-page-versions/2024-08-19-first.md, 401
});
