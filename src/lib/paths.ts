import path from "node:path";

/** The checkout's root folder (views/, public/, node_modules/ and prisma/ live under it). */
export const projectRoot = path.resolve(__dirname, "..", "..");
