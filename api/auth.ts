import { type NextFunction, type Request, type Response } from 'express';
import { type Principal } from '../domain/model';
import { HttpError } from './errors';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** API key → principal, from configuration (X-API-Key or Authorization: Bearer). Full RBAC replaces this later. */
export function authenticate(keys: ReadonlyMap<string, Principal>) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const bearer = /^Bearer\s+(.+)$/i.exec(req.header('authorization') ?? '')?.[1];
    const key = req.header('x-api-key') ?? bearer;
    const principal = key ? keys.get(key) : undefined;
    if (!principal)
      return next(new HttpError(401, 'unauthenticated', 'a valid X-API-Key header is required'));
    req.principal = principal;
    next();
  };
}

export function requireRole(...roles: Principal['role'][]) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const role = req.principal?.role;
    if (!role || !roles.includes(role)) {
      return next(new HttpError(403, 'forbidden', `this action needs one of the roles: ${roles.join(', ')}`));
    }
    next();
  };
}

export function principalOf(req: Request): Principal {
  if (!req.principal) throw new HttpError(401, 'unauthenticated', 'a valid X-API-Key header is required');
  return req.principal;
}
