import type { TargetForm } from '../../screens/api.js';

/** A typed field: blank is "not given", so the target's default applies. */
function formField(v: string): string | undefined {
  const t = v.trim();
  return t === '' ? undefined : t;
}

/** The form's one cipher field: `$NAME` is a variable, anything else a file (the target checks both). */
function cipherPassSource(v: string): { cipherPassFile?: string; cipherPassEnv?: string } {
  const t = formField(v);
  if (t === undefined) return { cipherPassFile: undefined, cipherPassEnv: undefined };
  return t.startsWith('$') ? { cipherPassFile: undefined, cipherPassEnv: t.slice(1) } : { cipherPassFile: t, cipherPassEnv: undefined };
}

/**
 * The Targets form as the target's input (validated by validateTarget). Every field is present,
 * blank ones as undefined, so an edit that clears a field clears it.
 */
export function targetInputFromForm(form: TargetForm) {
  return {
    name: formField(form.name),
    engine: formField(form.engine),
    host: formField(form.host),
    port: formField(form.port),
    user: formField(form.user),
    dbname: formField(form.dbname),
    repo: formField(form.repo),
    passwordEnv: formField(form.passwordEnv),
    rto: formField(form.rto),
    rpo: formField(form.rpo),
    method: formField(form.method),
    ...cipherPassSource(form.cipherPass),
  };
}
