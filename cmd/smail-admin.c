/* smail-admin: the operator's tool.  Access to the portal directory is
 * its authority; it authenticates no account. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "smail.h"

static const char usage[] =
    "smail-admin [-q] [-d DIR] COMMAND ...\n"
    "  init [--pwhash interactive|moderate|sensitive]\n"
    "                              create the portal\n"
    "  add [-n \"First Last\"] ADDR  provision an active account\n"
    "  invite [-n \"First Last\"] ADDR\n"
    "                              provision an invited account, mail its token\n"
    "  list [--json]               ADDR, STATE and CREATED of every account\n"
    "  unlock ADDR                 end a lockout\n"
    "  cancel-reset ADDR           end a pending, waiting or approved reset\n"
    "  approve ADDR --recovery-key-file FILE\n"
    "                              complete a waiting reset or re-invitation\n"
    "  flush                       deliver queued notifications\n"
    "  check [--anchors FILE|-]    verify every record; ID<TAB>PROBLEM per bad one;\n"
    "                              the audit log against anchor lines\n"
    "  backup FILE [--with-recovery-key [--recovery-key-file F]]\n"
    "                              a consistent snapshot in one archive\n"
    "  restore FILE DIR [--without-recovery-key]\n"
    "                              a working portal at DIR from a backup\n"
    "  audit [--json] [ADDR]       the security log: TIME EVENT ACCOUNT ID\n"
    "  purge                       remove what is over; give the space back\n"
    "  keys                        the portal's id and key fingerprints\n"
    "common options: -d/--dir DIR, --password-file FILE, --password-fd N,\n"
    "  -q/--quiet, -h/--help, -V/--version\n";

enum { OPT_PWHASH = SM_OPT_FIRST_FREE, OPT_WITH_RK, OPT_WITHOUT_RK, OPT_JSON,
	OPT_ANCHORS };

static int
operand(int argc, int want, const char *cmd)
{
	if (argc - optind != want) {
		sm_err(EX_USAGE, "%s: %s", cmd, !want ? "takes no operands" :
		    strcmp(cmd, "backup") == 0 ? "give the FILE to write" :
		    "give one address");
		sm_usage(usage);
	}
	return 0;
}

static int
cmd_add(sm_portal *p, const struct sm_opts *o, const char *addr,
    const char *name)
{
	struct sm_account a;
	char *canon, *pw = NULL, *first = NULL, *last = NULL;
	int rc;

	if ((rc = sm_addr_canon(addr, &canon)) != 0)
		return rc;
	if ((rc = sm_name_check(name)) != 0)
		goto out;
	if ((rc = sm_store_begin(p, 0)) != 0)
		goto out;
	rc = sm_account_get(p, canon, &a);
	sm_store_end(p);
	if (rc == 0) {
		sm_account_free(&a);
		rc = sm_err(EX_CANTCREAT, "%s: the account already exists", addr);
		goto out;
	}
	if (rc != EX_NOUSER)
		goto out;
	if ((rc = sm_read_password(o, "New password: ", 1, &pw)) != 0)
		goto out;
	sm_name_split(name, &first, &last);
	if ((rc = sm_policy_check(p, pw, addr, first, last)) != 0)
		goto out;
	if ((rc = sm_account_add(p, addr, name, pw)) == 0)
		sm_note("%s: account created", addr);
out:
	if (pw)
		sm_secret_free(pw);
	free(first);
	free(last);
	free(canon);
	return rc;
}

static int
cmd_invite(sm_portal *p, const char *addr, const char *name)
{
	unsigned char *sk = sm_secret_alloc(32);
	int have, rc;

	if ((rc = sm_name_check(name)) != 0)
		goto out;
	have = sm_recovery_key_load(p, NULL, sk);
	if (have > 1) {
		rc = have;
		goto out;
	}
	rc = sm_account_invite(p, addr, name, have ? sk : NULL,
	    "The portal's operator");
out:
	sm_secret_free(sk);
	return rc;
}

static int
cmd_approve(sm_portal *p, const char *addr, const char *keyfile)
{
	unsigned char *sk;
	int rc;

	if (!keyfile) {
		sm_err(EX_USAGE, "approve: give --recovery-key-file FILE");
		sm_usage(usage);
	}
	sk = sm_secret_alloc(32);
	rc = sm_recovery_key_load(p, keyfile, sk);
	if (rc == 1)
		rc = sm_approve(p, addr, sk);
	sm_secret_free(sk);
	return rc;
}

static int
cmd_check(sm_portal *p, const char *anchors)
{
	unsigned bad, msgs;
	int rc, files;

	/* The files first (a problem is named on standard error), then
	 * every record. */
	files = sm_portal_check_files(p);
	if ((rc = sm_check(p, anchors, stdout, &bad, &msgs)) != 0)
		return rc;
	if (fflush(stdout) != 0)
		return sm_err(EX_IOERR, "standard output: write error");
	sm_note("%u message%s checked, %u problem%s", msgs, msgs == 1 ? "" : "s",
	    bad, bad == 1 ? "" : "s");
	return bad ? EX_DATAERR : files ? files : 0;
}

static int
cmd_backup(sm_portal *p, const struct sm_opts *o, const char *file, int with_rk,
    const char *keyfile)
{
	unsigned char *sk = NULL;
	char *pass = NULL;
	int rc = 0;

	if (with_rk) {
		sk = sm_secret_alloc(32);
		rc = sm_recovery_key_load(p, keyfile, sk);
		if (rc == 0)
			rc = sm_err(EX_NOINPUT, "the recovery key is not in the portal: "
			    "give --recovery-key-file FILE");
		else if (rc == 1)
			rc = sm_read_password(o, "Passphrase for the recovery key: ", 1,
			    &pass);
	}
	if (rc == 0)
		rc = sm_backup(p, file, pass, sk);
	if (rc == 0)
		sm_note("%s: backup written%s", file, sk ? " (with the recovery "
		    "key, under the passphrase)" : "");
	if (pass)
		sm_secret_free(pass);
	if (sk)
		sm_secret_free(sk);
	return rc;
}

/* What an auditor compares a signed export with. */
static int
cmd_keys(sm_portal *p)
{
	unsigned char *sk = sm_secret_alloc(64);
	char *fp;
	int rc, have;

	printf("portal\t%s\n", p->idhex);
	rc = sm_portal_signkey(p, sk, 0);
	if (rc == 0) {
		fp = sm_fingerprint(sk + 32);
		printf("signing-key\t%s\n", fp);
		free(fp);
	} else if (rc == EX_NOINPUT) {
		printf("signing-key\tnone (made at the next audit entry or signed "
		    "export)\n");
		rc = 0;
	}
	fp = sm_fingerprint(p->recovery_pk);
	have = sm_recovery_key_load(p, NULL, sk);
	printf("recovery-key\t%s\t%s\n", fp, have == 1 ? "in the portal" :
	    "kept elsewhere");
	free(fp);
	sm_secret_free(sk);
	if (rc == 0 && fflush(stdout) != 0)
		rc = sm_err(EX_IOERR, "standard output: write error");
	return rc;
}

static int
cmd_flush(sm_portal *p)
{
	unsigned done, left, rejected;
	int rc;

	if ((rc = sm_mail_flush(p, &done, &left, &rejected)) != 0)
		return rc;
	sm_note("%u delivered, %u still queued, %u refused by the relay",
	    done, left, rejected);
	return left ? EX_TEMPFAIL : rejected ? EX_DATAERR : 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		SM_LONGOPTS_COMMON,
		{ "name", required_argument, 0, 'n' },
		{ "recovery-key-file", required_argument, 0, SM_OPT_RKEYFILE },
		{ "pwhash", required_argument, 0, OPT_PWHASH },
		{ "with-recovery-key", no_argument, 0, OPT_WITH_RK },
		{ "json", no_argument, 0, OPT_JSON },
		{ "without-recovery-key", no_argument, 0, OPT_WITHOUT_RK },
		{ "anchors", required_argument, 0, OPT_ANCHORS },
		{ 0, 0, 0, 0 }
	};
	struct sm_opts o;
	const char *name = NULL, *keyfile = NULL, *pwhash = NULL, *cmd;
	const char *anchors = NULL;
	sm_portal *p = NULL;
	int c, rc, with_rk = 0, without_rk = 0, json = 0;

	sm_init(argv[0]);
	sm_opts_init(&o);
	/* SMAIL_PASSWORD_FILE names an account's password for signing in;
	 * the operator's tool signs nobody in, and a new account's password
	 * or a backup's passphrase must be given on purpose. */
	o.password_file = NULL;
	while ((c = getopt_long(argc, argv, "d:n:qhV", longopts, NULL)) != -1) {
		if (sm_opts_common(&o, c, optarg, usage))
			continue;
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case SM_OPT_RKEYFILE:
			keyfile = optarg;
			break;
		case OPT_PWHASH:
			pwhash = optarg;
			break;
		case OPT_WITH_RK:
			with_rk = 1;
			break;
		case OPT_WITHOUT_RK:
			without_rk = 1;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_ANCHORS:
			anchors = optarg;
			break;
		default:
			sm_usage(usage);
		}
	}
	if (optind >= argc)
		sm_usage(usage);
	cmd = argv[optind++];
	if (anchors && strcmp(cmd, "check") != 0) {
		sm_err(EX_USAGE, "--anchors: only for check");
		sm_usage(usage);
	}

	if (strcmp(cmd, "init") == 0) {
		operand(argc, 0, cmd);
		if (pwhash && strcmp(pwhash, "interactive") &&
		    strcmp(pwhash, "moderate") && strcmp(pwhash, "sensitive")) {
			sm_err(EX_USAGE, "--pwhash: '%s' is not interactive, "
			    "moderate or sensitive", pwhash);
			sm_usage(usage);
		}
		rc = sm_portal_init(o.dir, pwhash);
		if (rc == 0)
			sm_note("portal created");
		return rc;
	}
	if (strcmp(cmd, "restore") == 0) {
		if (argc - optind != 2) {
			sm_err(EX_USAGE, "restore: give the backup FILE and the new "
			    "portal DIR");
			sm_usage(usage);
		}
		rc = sm_restore(argv[optind], argv[optind + 1], &o, without_rk);
		if (rc == 0)
			sm_note("%s: portal restored", argv[optind + 1]);
		return rc;
	}
	if (strcmp(cmd, "add") && strcmp(cmd, "invite") && strcmp(cmd, "list") &&
	    strcmp(cmd, "unlock") && strcmp(cmd, "approve") && strcmp(cmd, "flush") &&
	    strcmp(cmd, "cancel-reset") &&
	    strcmp(cmd, "check") && strcmp(cmd, "backup") && strcmp(cmd, "audit") &&
	    strcmp(cmd, "purge") && strcmp(cmd, "keys")) {
		sm_err(EX_USAGE, "%s: unknown command", cmd);
		sm_usage(usage);
	}
	if (strcmp(cmd, "audit") == 0) {
		if (argc - optind > 1)
			sm_usage(usage);
	} else
		operand(argc, strcmp(cmd, "list") && strcmp(cmd, "flush") &&
		    strcmp(cmd, "check") && strcmp(cmd, "purge") &&
		    strcmp(cmd, "keys") ? 1 : 0, cmd);
	if ((rc = sm_portal_open(o.dir, &p)) != 0)
		return rc;
	if (strcmp(cmd, "add") == 0)
		rc = cmd_add(p, &o, argv[optind], name);
	else if (strcmp(cmd, "invite") == 0)
		rc = cmd_invite(p, argv[optind], name);
	else if (strcmp(cmd, "list") == 0)
		rc = sm_account_list(p, stdout, json);
	else if (strcmp(cmd, "unlock") == 0) {
		if ((rc = sm_account_unlock(p, argv[optind])) == 0)
			sm_note("%s: unlocked", argv[optind]);
	} else if (strcmp(cmd, "cancel-reset") == 0)
		rc = sm_reset_cancel(p, argv[optind]);
	else if (strcmp(cmd, "approve") == 0)
		rc = cmd_approve(p, argv[optind], keyfile);
	else if (strcmp(cmd, "check") == 0)
		rc = cmd_check(p, anchors);
	else if (strcmp(cmd, "keys") == 0)
		rc = cmd_keys(p);
	else if (strcmp(cmd, "purge") == 0) {
		struct sm_purged st;
		if ((rc = sm_purge(p, &st)) == 0)
			sm_note("purged %u message%s, %u leftover record%s, %u session%s "
			    "and %u token%s", st.messages, st.messages == 1 ? "" : "s",
			    st.leftovers, st.leftovers == 1 ? "" : "s", st.sessions,
			    st.sessions == 1 ? "" : "s", st.tokens, st.tokens == 1 ? "" : "s");
	}
	else if (strcmp(cmd, "audit") == 0) {
		char *canon = NULL;
		if (optind < argc && (rc = sm_addr_canon(argv[optind], &canon)) != 0)
			goto done;
		free(canon);
		if ((rc = sm_store_begin(p, 0)) == 0) {
			rc = sm_audit_walk(p, stdout, optind < argc ? argv[optind] : NULL,
			    json, NULL, NULL);
			sm_store_end(p);
			if (rc == EX_DATAERR)
				sm_err(rc, "the log's chain is broken: run smail-admin check");
			if (fflush(stdout) != 0 && rc == 0)
				rc = sm_err(EX_IOERR, "standard output: write error");
		}
	} else if (strcmp(cmd, "backup") == 0)
		rc = cmd_backup(p, &o, argv[optind], with_rk, keyfile);
	else
		rc = cmd_flush(p);
done:
	sm_portal_close(p);
	return rc;
}
