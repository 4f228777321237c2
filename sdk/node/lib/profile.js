'use strict';
// The dfns-mock profile (`dfns-mock --profile-out PATH`) a check runs against: its path comes from the
// environment so the same scripts run against any server `sdk/run.py` starts.
const fs = require('node:fs');

/** The profile named by `variable`, or a one-line error naming what is missing (no stack trace). */
function loadProfile(variable) {
  const path = process.env[variable];
  if (!path) {
    console.error(`${variable} is not set: give the path of a dfns-mock --profile-out file`);
    process.exit(2);
  }
  try {
    return JSON.parse(fs.readFileSync(path, 'utf-8'));
  } catch (error) {
    console.error(`${variable}=${path}: cannot read the profile (${error.message})`);
    process.exit(2);
  }
}

/** A string unique to this run, so two runs against one server never share an `externalId`. */
function unique(prefix) {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The error `promise` rejects with, after checking it is an `ErrorClass` (each SDK version has its own DfnsError). */
async function rejectionOf(promise, ErrorClass) {
  const assert = require('node:assert/strict');
  let caught;
  await assert.rejects(promise, (error) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof ErrorClass, `expected a ${ErrorClass.name}, got ${caught && caught.stack}`);
  return caught;
}

module.exports = { loadProfile, unique, rejectionOf };
