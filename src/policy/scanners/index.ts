// The one list of scanners. The gate runs all of them concurrently; adding a scanner means adding it here.
import { checkovScanner } from './checkov.js';
import { opaScanner } from './opa.js';
import { pregateScanner } from './pregate.js';
import { tfsecScanner } from './tfsec.js';
import type { Scanner } from './types.js';

export const SCANNERS: readonly Scanner[] = [pregateScanner, tfsecScanner, checkovScanner, opaScanner];

export type { ScanInput, Scanner } from './types.js';
