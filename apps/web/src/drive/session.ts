/** A bought drive session as the browser keeps it, so a reload does not lose the robot. */
export interface DriveSession {
  readonly robotHost: string;
  /** Paid mode's bearer token; free mode drives by wallet instead. */
  readonly token: string | null;
  readonly wallet: string | null;
  readonly expiresAt: string;
}

const PREFIX = "robo402.drive.";
const key = (host: string) => `${PREFIX}${host.toLowerCase()}`;

export const driveSessions = {
  get(host: string): DriveSession | null {
    try {
      const stored = JSON.parse(localStorage.getItem(key(host)) ?? "null") as DriveSession | null;
      return stored && Date.parse(stored.expiresAt) > Date.now() ? stored : null;
    } catch {
      return null;
    }
  },
  /** Every live session this browser holds. */
  all(): DriveSession[] {
    return Object.keys(localStorage)
      .filter((name) => name.startsWith(PREFIX))
      .map((name) => driveSessions.get(name.slice(PREFIX.length)))
      .filter((session): session is DriveSession => session !== null);
  },
  set: (session: DriveSession) => localStorage.setItem(key(session.robotHost), JSON.stringify(session)),
  clear: (host: string) => localStorage.removeItem(key(host)),
};
