'use strict';
// The newest @dfns/sdk's everyday calls against `dfns-mock --contract 2026` (issue 27, item 4), as a team
// would make them before it has an org: every negative check has its control (the same call that succeeds),
// so a server refusing everything cannot pass. The profile path is DFNS_PROFILE (sdk/run.py sets it).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { DfnsApiClient, DfnsError } = require('@dfns/sdk');
const { AsymmetricKeySigner } = require('@dfns/sdk-keysigner');
const { loadProfile, unique, rejectionOf } = require('./lib/profile');

const profile = loadProfile('DFNS_PROFILE');
const baseUrl = profile.baseUrl;
const signer = new AsymmetricKeySigner({ credId: profile.credId, privateKey: profile.privateKey });

/** A client as the SDK's README makes one: the admin's token, and its key signer unless `signer: null`. */
function client(options = {}) {
  return new DfnsApiClient({ baseUrl, authToken: profile.authToken, signer, ...options });
}

/** The DfnsError `promise` rejects with, after checking it is one (the SDK's own error class). */
function dfnsErrorOf(promise) {
  return rejectionOf(promise, DfnsError);
}

/** A Native transfer from the seeded wallet, the profile's destination and amount. */
function nativeTransfer(externalId, amount = profile.transferAmount) {
  return { kind: 'Native', to: profile.transferTo, amount: String(amount), externalId };
}

test('listWallets lists the seeded wallet', async () => {
  const listed = await client().wallets.listWallets();
  assert.ok(Array.isArray(listed.items));
  assert.ok(listed.items.some((wallet) => wallet.id === profile.walletId), 'the seeded wallet is listed');
});

test('getWallet returns the seeded wallet', async () => {
  const wallet = await client().wallets.getWallet({ walletId: profile.walletId });
  assert.equal(wallet.id, profile.walletId);
  assert.equal(typeof wallet.network, 'string');
  assert.equal(typeof wallet.signingKey.publicKey, 'string');
});

test('createWallet signs its user action with the key signer and returns the wallet', async () => {
  const externalId = unique('sdk-wallet');
  const name = unique('sdk-name');
  const wallet = await client().wallets.createWallet({ body: { network: 'EthereumSepolia', name, externalId } });
  assert.match(wallet.id, /^wa-/);
  assert.equal(wallet.network, 'EthereumSepolia');
  assert.equal(wallet.name, name);
  const fetched = await client().wallets.getWallet({ walletId: wallet.id });
  assert.equal(fetched.id, wallet.id);
  assert.equal(wallet.externalId, externalId);
  assert.equal(fetched.externalId, externalId);
  assert.match(wallet.signingKey.id, /^key-/);
});

test('transferAsset with one externalId twice returns the same transfer; another body is a 409', async () => {
  const wallets = client().wallets;
  const externalId = unique('sdk-xfer');
  const first = await wallets.transferAsset({ walletId: profile.walletId, body: nativeTransfer(externalId) });
  assert.match(first.id, /^xfr-/);
  assert.equal(first.walletId, profile.walletId);
  assert.equal(first.requestBody.externalId, externalId);

  const again = await wallets.transferAsset({ walletId: profile.walletId, body: nativeTransfer(externalId) });
  assert.equal(again.id, first.id, 'the same body and externalId return the original transfer');

  const error = await dfnsErrorOf(wallets.transferAsset({
    walletId: profile.walletId, body: nativeTransfer(externalId, Number(profile.transferAmount) + 1),
  }));
  assert.equal(error.httpStatus, 409);
  assert.equal(error.message, 'Conflicting transfer with same externalId');
  assert.equal(error.context.body.error.status, 409);
  assert.deepEqual(error.context.body.error.details, { duplicate: { id: first.id, externalId } });
  assert.ok(error.context.url.endsWith(`/wallets/${profile.walletId}/transfers`));
});

test('getWallet of an unknown wallet is a 404 DfnsError', async () => {
  const unknown = 'wa-00000-00000-0000000000000000';
  const error = await dfnsErrorOf(client().wallets.getWallet({ walletId: unknown }));
  assert.equal(error.httpStatus, 404);
  assert.equal(error.message, 'wallet not found');
  assert.equal(error.context.body.error.status, 404);
  assert.equal(error.context.body.error.details.walletId, unknown);
});

test('getPolicy returns the seeded policy; an unknown one is a 404 DfnsError', async () => {
  const policies = client().policies;
  const policy = await policies.getPolicy({ policyId: profile.policyId });
  assert.equal(policy.id, profile.policyId);
  assert.ok(['Active', 'Archived'].includes(policy.status));
  const listed = await policies.listPolicies({});
  assert.ok(listed.items.some((item) => item.id === profile.policyId), 'the seeded policy is listed');
  const unknown = 'plc-00000-00000-0000000000000000';
  const error = await dfnsErrorOf(policies.getPolicy({ policyId: unknown }));
  assert.equal(error.httpStatus, 404);
  assert.equal(error.context.body.error.status, 404);
  assert.equal(error.context.body.error.details.policyId, unknown);
});

test('a bad token is a 401 DfnsError (the good one lists: see listWallets)', async () => {
  const error = await dfnsErrorOf(client({ authToken: `${profile.authToken}x` }).wallets.listWallets());
  assert.equal(error.httpStatus, 401);
  assert.equal(error.context.body.error.status, 401);
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0);
});

test('a write without a signer is refused by the SDK itself, before any request', async () => {
  // utils/userActionFetch.js: a non-GET call without `signer` throws DfnsError(-1, ...) and sends nothing.
  const error = await dfnsErrorOf(
    client({ signer: undefined }).wallets.createWallet({ body: { network: 'EthereumSepolia' } }),
  );
  assert.equal(error.httpStatus, -1);
  assert.equal(error.message, 'A "signer" needs to be passed to Dfns client.');
  assert.match(error.context.detail, /User Action Signing/);
  // Control: a read needs no signer.
  const wallet = await client({ signer: undefined }).wallets.getWallet({ walletId: profile.walletId });
  assert.equal(wallet.id, profile.walletId);
});

test('an org-scoped client works for its own org', async () => {
  const scoped = client({ orgId: profile.orgId });
  const listed = await scoped.wallets.listWallets();
  assert.ok(listed.items.some((wallet) => wallet.id === profile.walletId));
  const wallet = await scoped.wallets.createWallet({ body: { network: 'Bitcoin' } });
  assert.equal(wallet.network, 'Bitcoin');
});

test('an org-scoped client refuses a token of another org (the SDK checks the org claim)', async () => {
  // utils/authToken.js: the token's https://custom/app_metadata orgId must equal `orgId`, else a plain Error.
  const expected = (orgId) => ({ name: 'Error', message: `Provided auth token is not scoped to org ID ${orgId}` });
  const otherOrgId = 'or-00000-00000-0000000000000000';
  await assert.rejects(client({ orgId: otherOrgId }).wallets.listWallets(), expected(otherOrgId));
  await assert.rejects(
    client({ orgId: profile.orgId, authToken: profile.otherOrgAuthToken }).wallets.listWallets(),
    expected(profile.orgId),
  );
});

test('listWallets by owner finds the wallet delegated to that end user, and not the org\'s own', async () => {
  const delegated = await client().wallets.createWallet({
    body: { network: 'EthereumSepolia', delegateTo: profile.endUserId },
  });
  const byOwner = await client().wallets.listWallets({ query: { owner: profile.endUserId } });
  const ids = byOwner.items.map((wallet) => wallet.id);
  assert.ok(ids.includes(delegated.id), 'the delegated wallet is the end user\'s');
  assert.ok(!ids.includes(profile.walletId), 'the org\'s own wallet is no end user\'s');
});
