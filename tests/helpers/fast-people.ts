// Members and clubs created straight in the database (no password hashing), for tests that need many.
import type { Db } from "../../src/db/client";

let n = 0;
export async function quickMember(db: Db) {
  n += 1;
  const sys = 800_000_000 + (process.pid % 10_000) * 10_000 + n;
  return db.user.create({
    data: {
      systemNumber: sys,
      firstName: "Quick",
      lastName: `Member${n}`,
      email: `quick${sys}@example.test`,
      passwordHash: "not-a-login",
    },
  });
}

export async function quickClub(db: Db) {
  n += 1;
  return db.organisation.create({ data: { clubNumber: `Q${process.pid % 10_000}-${n}`, name: `Quick Club ${n}` } });
}
