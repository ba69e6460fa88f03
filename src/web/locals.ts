// Values every template can use: who is signed in and which parts of the navigation they may see.
import type { NextFunction, Request, Response } from "express";
import { hasGlobal } from "../services/roles/permissions";

export function templateLocals(req: Request, res: Response, next: NextFunction) {
  const user = req.user;
  res.locals.currentUser = user ?? null;
  res.locals.currentPath = req.path;
  res.locals.nav = {
    financeView: user ? hasGlobal(user.permissions, "VIEW") : false,
    financeEdit: user ? hasGlobal(user.permissions, "EDIT") : false,
    clubIds: user ? [...user.permissions.orgs.keys()] : [],
  };
  next();
}
