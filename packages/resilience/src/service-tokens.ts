/** Exchanges a service identity credential for an access token (identity's ServiceIdentityService.IssueToken). */
export interface ServiceTokenMinter {
  issueServiceToken(credential: string): Promise<{ token: string; expiresAt: Date }>;
}

interface MintedToken {
  authorization: string;
  mintedAt: number;
  expiresAt: number;
}

/**
 * The current `Bearer …` header of each service identity a process acts as: minted once per
 * credential (concurrent callers share one IssueToken call) and reused until a third of its life is
 * left (at least 5 s), so unattended work (collections, recurrent requests) outlives any one token.
 * Credentials and tokens live only in memory; nothing here logs them.
 */
export class ServiceTokens {
  private readonly minted = new Map<string, MintedToken>();
  private readonly minting = new Map<string, Promise<MintedToken>>();

  constructor(private readonly minter?: ServiceTokenMinter) {}

  async authorizationFor(credential: string): Promise<string> {
    const now = Date.now();
    const cached = this.minted.get(credential);
    if (cached && now < cached.expiresAt - Math.max(5_000, (cached.expiresAt - cached.mintedAt) / 3)) return cached.authorization;
    let pending = this.minting.get(credential);
    if (!pending) {
      if (!this.minter) throw new Error("no identity client to mint service identity tokens");
      pending = this.minter
        .issueServiceToken(credential)
        .then(({ token, expiresAt }) => {
          const minted = { authorization: `Bearer ${token}`, mintedAt: Date.now(), expiresAt: expiresAt.getTime() };
          this.minted.set(credential, minted);
          return minted;
        })
        .finally(() => this.minting.delete(credential));
      this.minting.set(credential, pending);
    }
    return (await pending).authorization;
  }
}
