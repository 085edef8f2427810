/**
 * The key a wallet is stored under. EVM addresses are hex, so case carries no meaning (checksums
 * aside) and they compare in lower case; other addresses (Solana's base58) are case-sensitive.
 */
export function walletKey(address: string): string {
  const trimmed = address.trim();
  return /^0x[0-9a-fA-F]+$/.test(trimmed) ? trimmed.toLowerCase() : trimmed;
}

/** `0x1234...abcd`: enough to recognise your own wallet, not enough to copy someone else's. */
export function maskWallet(address: string): string {
  return address.length <= 10 ? address : `${address.slice(0, 6)}...${address.slice(-4)}`;
}
