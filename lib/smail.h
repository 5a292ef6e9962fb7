/*
 * smail.h: the one public header of the smail library.
 *
 * Commands in cmd/ parse options, do I/O and call in here; only lib/
 * touches GDBM and libsodium.  Functions that can fail return 0 or a
 * sysexits(3) code, having printed one line on stderr that names the
 * command, the object and the reason (sm_err); callers pass the code
 * on as their exit status.
 */
#ifndef SMAIL_H
#define SMAIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sysexits.h>
#include <time.h>

#include <sodium.h>

#define SMAIL_VERSION "0.1.0"

/* ---- util.c: errors, memory, strings, time, files ---------------- */

extern const char *sm_progname;
extern int sm_quiet;
extern const char *sm_errctx;      /* e.g. "manifest:4": prefixed to errors */
extern int sm_silent;              /* no messages at all (fuzzing) */

/* Process set-up every command does first: sodium_init, umask 077, no
 * core dumps, not dumpable, refuse set-id.  Exits on failure. */
void sm_init(const char *argv0);

int sm_err(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sm_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sm_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sm_die(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

void *sm_xmalloc(size_t n);
void *sm_xcalloc(size_t n, size_t m);
void *sm_xrealloc(void *p, size_t n);
char *sm_xstrdup(const char *s);
char *sm_xstrndup(const char *s, size_t n);
char *sm_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sm_freestr(char *s);          /* wipe, then free */

/* Secret buffers (sodium_malloc'd, guarded, wiped on free). */
void *sm_secret_alloc(size_t n);
void sm_secret_free(void *p);
/* Process-long secret buffers for hot paths (one user a slot). */
enum { SM_SCRATCH_WRITE, SM_SCRATCH_READ, SM_SCRATCH_SLOTS };
void *sm_scratch(int slot, size_t n);
void sm_scratch_done(int slot, size_t n);

int64_t sm_now(void);
void sm_fmt_time(int64_t t, char out[32]);          /* 2026-11-28T12:00:00Z */
int sm_parse_duration(const char *s, int64_t *out); /* "30m" -> 1800; -1 bad */
void sm_fmt_duration(int64_t secs, char out[48]);   /* 1800 -> "30 minutes" */

void sm_hex(char *out, const unsigned char *in, size_t n);  /* out: 2n+1 */
char *sm_b64(const unsigned char *in, size_t n);            /* url, no pad */
int sm_unb64(unsigned char *out, size_t outlen, const char *in, size_t inlen);

/* Files.  sm_write_file creates PATH with O_EXCL|O_NOFOLLOW 0600 and
 * fsyncs it; sm_replace_file writes PATH.tmp and renames it over PATH. */
int sm_write_file(const char *path, const void *p, size_t n);
int sm_write_file_nosync(const char *path, const void *p, size_t n);
int sm_replace_file(const char *path, const void *p, size_t n);
int sm_read_file(const char *path, size_t max, char **out, size_t *outlen);
int sm_fsync_dir(const char *dir);
int sm_mkdirs(const char *path);   /* mkdir -p, mode 0700 */
int sm_isatty_path(void);          /* can /dev/tty be opened? */
/* Reads all of FD (at most MAX bytes, else 65); OUT is NUL-terminated. */
int sm_read_fd(int fd, const char *what, size_t max, char **out,
    size_t *outlen);

/* A secret file named by an option or config: refuses a group- or
 * other-readable file (78) or a file that is not a regular file. */
int sm_check_secret_file(const char *path, int fd);

/* Wipe an argv string in place so ps(1) and /proc no longer show it. */
void sm_wipe_arg(char *arg);
int sm_all_zero(const void *p, size_t n);

/* ---- buf.c: growable buffers and the tag-length-value record codec -- */

typedef struct {
	unsigned char *p;
	size_t len, cap;
} sm_buf;

void sm_buf_put(sm_buf *b, const void *p, size_t n);
void sm_buf_putc(sm_buf *b, int c);
void sm_buf_puts(sm_buf *b, const char *s);
void sm_buf_printf(sm_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sm_buf_free(sm_buf *b);       /* wipes */

/* Records: a 4-byte magic, then fields of tag (1 byte), length (4 bytes,
 * big-endian) and data.  Readers skip unknown tags and reject anything
 * malformed. */
void sm_rec_begin(sm_buf *b, const char magic[4]);
void sm_rec_bytes(sm_buf *b, unsigned tag, const void *p, size_t n);
void sm_rec_str(sm_buf *b, unsigned tag, const char *s);
void sm_rec_u64(sm_buf *b, unsigned tag, uint64_t v);

typedef struct {
	const unsigned char *p;
	size_t len, off;
} sm_rd;

int sm_rd_begin(sm_rd *r, const void *p, size_t n, const char magic[4]);
/* 1: a field, 0: end, -1: malformed */
int sm_rd_next(sm_rd *r, unsigned *tag, const unsigned char **p, size_t *n);
int sm_rd_u64(const unsigned char *p, size_t n, uint64_t *v);
char *sm_rd_str(const unsigned char *p, size_t n);   /* NULL if NUL inside */

/* ---- config.c: the portal's config file ------------------------- */

enum { SM_PWHASH_INTERACTIVE, SM_PWHASH_MODERATE, SM_PWHASH_SENSITIVE };

struct sm_config {
	int64_t lock_attempts;
	int64_t lock_time, session_idle, session_max;
	int64_t invite_ttl, reset_ttl, store_wait;
	int pwhash;
	char *dictionary;
	char *smtp_url, *smtp_user, *smtp_password_file, *smtp_cafile;
	char *smtp_from;
	int64_t message_ttl, max_ttl;  /* max_ttl 0: none */
	char *audit_anchor;            /* NULL: syslog; "none"; or a file */
};

void sm_config_defaults(struct sm_config *c);
/* Parses TEXT (from file NAME); 0 or 78 with "NAME:LINE: why". */
int sm_config_parse(struct sm_config *c, const char *name,
    const char *text, size_t len);
void sm_config_free(struct sm_config *c);
extern const char sm_config_template[];
void sm_pwhash_limits(int level, uint64_t *ops, size_t *mem);

/* ---- opts.c: options every command shares ------------------------ */

struct sm_opts {
	const char *dir;
	const char *user;
	const char *password_file;
	int password_fd;               /* -1: none */
};

enum {
	SM_OPT_PWFILE = 0x100, SM_OPT_PWFD, SM_OPT_NEWPWFILE, SM_OPT_NEWPWFD,
	SM_OPT_CHANGEPW, SM_OPT_LOGIN, SM_OPT_LOGOUT, SM_OPT_STATUS,
	SM_OPT_RKEYFILE, SM_OPT_DIR, SM_OPT_USER, SM_OPT_CODEFILE, SM_OPT_FIRST_FREE
};

#define SM_LONGOPTS_COMMON \
	{"dir", required_argument, 0, SM_OPT_DIR}, \
	{"user", required_argument, 0, SM_OPT_USER}, \
	{"password-file", required_argument, 0, SM_OPT_PWFILE}, \
	{"password-fd", required_argument, 0, SM_OPT_PWFD}, \
	{"quiet", no_argument, 0, 'q'}, \
	{"help", no_argument, 0, 'h'}, \
	{"version", no_argument, 0, 'V'}

void sm_opts_init(struct sm_opts *o);
/* Handles a common option: 1 if it was one, 0 if not; exits on a bad
 * argument.  USAGE is printed for -h. */
int sm_opts_common(struct sm_opts *o, int c, const char *arg,
    const char *usage);
void sm_usage(const char *usage) __attribute__((noreturn));
int sm_parse_fd(const char *arg);

/* ---- portal.c: the portal directory ------------------------------ */

typedef struct sm_portal {
	char *dir;                     /* absolute */
	struct sm_config cfg;
	unsigned char id[16];
	char idhex[33];
	unsigned char recovery_pk[32];
	int lockfd;
	struct sm_store *st;           /* the open transaction, if any */
	struct sm_smtp *smtp;          /* the relay's handle, once used */
	struct sm_batch *batch;        /* a batch's group of messages, if open */
	struct sm_audit_state *audit;  /* the signing key, the head to anchor */
	/* Called by the outermost commit of a write transaction: with DONE
	 * 0 before it (it may still write; non-0 makes the commit fail),
	 * with DONE 1 once the transaction is durable.  (The audit log
	 * signs its head once per transaction.) */
	int (*on_commit)(struct sm_portal *p, int done);
} sm_portal;

/* Messages sent in one transaction (smail-send -b): one sync for the
 * group, their notifications posted together after it. */
struct sm_batch {
	char **mails;                  /* staged notifications */
	size_t nmails;
	int broken;                    /* a write failed: the group cannot commit */
};

char *sm_portal_default_dir(void);
/* Resolves -d / SMAIL_DIR / the default, checks the portal is safe,
 * loads config and the portal's identity.  66 when there is none. */
int sm_portal_open(const char *dir, sm_portal **out);
void sm_portal_close(sm_portal *p);
int sm_portal_init(const char *dir, const char *pwhash);
/* A new portal is built in a stage beside DIR (maildirs made), then
 * moved into place; DIR must not exist or be empty (73). */
int sm_stage_begin(const char *dir, char **abs, char **stage);
int sm_stage_finish(char *stage, const char *abs);
void sm_stage_abort(char *stage);
int sm_recovery_key_write(const char *path, const unsigned char sk[32]);
char *sm_portal_path(const sm_portal *p, const char *name);
/* Loads the recovery secret key from PATH (NULL: the portal's own file).
 * 1 when loaded, 0 when absent, or an exit code. */
int sm_recovery_key_load(const sm_portal *p, const char *path,
    unsigned char sk[32]);

/* ---- show.c: text as smail shows it; commands a person pastes ----- */

/* A control character: C0 (0x00-0x1f), DEL, C1 (U+0080-U+009F), or a
 * byte 0x80-0x9f outside any UTF-8 sequence.  Its length at P (N > 0
 * bytes left), or 0 when P starts something else. */
size_t sm_ctrl_len(const unsigned char *p, size_t n);
/* The length of the well-formed UTF-8 sequence at P, or 0. */
size_t sm_utf8_len(const unsigned char *p, size_t n);
int sm_has_ctrl(const char *s);   /* does S hold a control character? */
/* S as one field of one line (TSV columns, the text view's header
 * lines, messages): each control character becomes a space. */
void sm_field(sm_buf *b, const char *s);
void sm_field_str(char *s);        /* the same, in place (no allocation) */
int sm_put_field(FILE *out, const char *s);       /* 0, or -1 */
/* A body for a terminal: TAB, LF and CR LF kept, every other control
 * character made visible (^[, ^?, <U+009B>, <9B>), as less(1) does. */
void sm_text_shown(sm_buf *b, const void *p, size_t n);
/* S as one shell word: as it is when every byte is plain, else in
 * single quotes (a ' as '\''), so that pasting it runs nothing. */
void sm_shell_word(sm_buf *b, const char *s);
/* The command a person runs (in a notification or a hint): CMD, -d DIR
 * when P's directory is not the default portal, then the arguments up
 * to NULL, every word quoted as sm_shell_word does.  Free it with
 * sm_freestr (it may hold a token). */
char *sm_command_line(const sm_portal *p, const char *cmd, ...)
    __attribute__((sentinel));

/* ---- store.c: GDBM in two copies, an atomic commit, a lock that waits */

typedef struct sm_store sm_store;

/* Takes the lock (shared to read, exclusive to write) waiting up to
 * store_wait, then opens the store (a writer first rebuilds a copy a
 * crash left half-changed); 75 when the wait runs out. */
int sm_store_begin(sm_portal *p, int write);
/* Reserves room for BYTES more (a full disk: 74 before any write);
 * every write transaction starts with a small reserve. */
int sm_store_reserve(sm_portal *p, uint64_t bytes);
/* Commits (all of the transaction's writes, or none: synced) and
 * releases; 0 or 74. */
int sm_store_commit(sm_portal *p);
int sm_store_exists(sm_portal *p, const char *key);
/* Releases, undoing any writes: for readers, and writers that fail.
 * Inside an open transaction (a batch), begin/commit/end nest, and only
 * the outermost commits; an inner writer's end marks the batch broken,
 * sm_store_release does not (for an inner writer that undid itself). */
void sm_store_end(sm_portal *p);
void sm_store_release(sm_portal *p);

/* 0 found (OUT malloc'd, caller wipes and frees), 1 absent, or 74. */
int sm_store_get(sm_portal *p, const char *key, unsigned char **out,
    size_t *outlen);
/* A replaced value of another size, or a removed one, is overwritten
 * with zeros in place first: no superseded value stays in the file. */
int sm_store_put(sm_portal *p, const char *key, const void *v, size_t n);
int sm_store_remove(sm_portal *p, const char *key);
/* Zeros over the value, which stays (a header that reads as gone). */
int sm_store_zero(sm_portal *p, const char *key);
/* A change to the store was cut short (a crash in a transaction): the
 * next writer rebuilds the copy it was making. */
int sm_store_cut_short(sm_portal *p);
/* Calls FN for every key starting with PREFIX (hash order); keys are
 * collected first, so FN may change the store.  Stops when FN is non-0. */
int sm_store_each(sm_portal *p, const char *prefix,
    int (*fn)(sm_portal *, const char *key, void *), void *arg);
/* A new store in directory DIR: empty, or from a dump. */
int sm_store_create(const char *dir);
int sm_store_dump(sm_portal *p, FILE *out);     /* portable format */
int sm_store_load(const char *dir, FILE *in);

/* ---- crypt.c: keys, wraps, tokens ---------------------------------- */

#define SM_BUNDLE_BYTES (64 + 32)  /* Ed25519 sk, X25519 sk */
#define SM_WRAP_BYTES (24 + SM_BUNDLE_BYTES + 16)
#define SM_SEAL_BYTES (48 + 32 + SM_BUNDLE_BYTES)

struct sm_keys {                   /* always in sm_secret_alloc memory */
	unsigned char sign_sk[64];
	unsigned char box_sk[32];
};

struct sm_pubkeys {
	unsigned char sign_pk[32];
	unsigned char box_pk[32];
	unsigned char sig[64];         /* Ed25519 over box_pk and address */
};

struct sm_pwparams {
	unsigned char salt[16];
	uint64_t ops, mem;
};

void sm_keys_generate(const char *canon, struct sm_pubkeys *pub,
    struct sm_keys *k);
int sm_pubkeys_verify(const char *canon, const struct sm_pubkeys *pub);
/* Does K hold the secret halves of PUB? */
int sm_keys_match(const struct sm_keys *k, const struct sm_pubkeys *pub);

void sm_pwparams_new(struct sm_pwparams *pp, int level);
/* Argon2id: one call, 32-byte key into KEY (secret memory).  74 on OOM. */
int sm_pwhash_key(unsigned char key[32], const char *pw,
    const struct sm_pwparams *pp);

/* AEAD wrap of the key bundle under a 32-byte key; AD binds the domain
 * label, the address and the public keys. */
void sm_wrap(unsigned char out[SM_WRAP_BYTES], const unsigned char key[32],
    const char *label, const char *canon, const struct sm_pubkeys *pub,
    const struct sm_keys *k);
int sm_unwrap(struct sm_keys *k, const unsigned char in[SM_WRAP_BYTES],
    const unsigned char key[32], const char *label, const char *canon,
    const struct sm_pubkeys *pub);   /* 0 ok, -1 wrong key or tampered */

/* Sealed to an X25519 public key (recovery key, transfer key). */
void sm_seal(unsigned char out[SM_SEAL_BYTES], const unsigned char pk[32],
    const char *canon, const struct sm_pubkeys *pub, const struct sm_keys *k);
int sm_unseal(struct sm_keys *k, const unsigned char in[SM_SEAL_BYTES],
    const unsigned char pk[32], const unsigned char sk[32],
    const char *canon, const struct sm_pubkeys *pub);

/* Symmetric AEAD with a random nonce: OUT gets nonce ‖ ct ‖ tag. */
void sm_aead_seal(sm_buf *out, const unsigned char key[32],
    const void *ad, size_t adlen, const void *m, size_t mlen);
int sm_aead_open(sm_buf *out, const unsigned char key[32],
    const void *ad, size_t adlen, const unsigned char *c, size_t clen);
/* A 32-byte subkey of the account's keys for LABEL (history, book...). */
void sm_account_subkey(unsigned char out[32], const struct sm_keys *k,
    const char *label);

/* Tokens: 32 random bytes written PREFIX-base64url. */
#define SM_TOKEN_INVITE 'i'
#define SM_TOKEN_RESET 'r'
#define SM_TOKEN_CHARS 47          /* "smi-" + 43 */
void sm_token_new(int type, unsigned char raw[32], char text[SM_TOKEN_CHARS + 1]);
int sm_token_parse(int type, const char *text, unsigned char raw[32]);
void sm_token_hash(unsigned char out[32], int type, const char *canon,
    const unsigned char raw[32]);
void sm_token_key(unsigned char out[32], int type, const char *canon,
    const unsigned char raw[32]);
/* Finds the one token of TYPE in a mail.  0 found, 65 none or several. */
int sm_token_from_mail(int type, const char *mail, size_t len,
    unsigned char raw[32]);
/* The token from -t ARG, "-t -" (a line on stdin) or, with ARG NULL,
 * a mail on stdin: 0; 1 when stdin is a terminal, 2 when it is empty;
 * 77 when malformed, 65 when the mail holds none. */
int sm_token_input(int type, const char *arg, unsigned char raw[32]);

/* ---- addr.c: e-mail addresses ------------------------------------ */

/* Checks syntax; CANON gets local@lower(domain).  65 when malformed. */
int sm_addr_canon(const char *addr, char **canon);
/* S fit for a message: control characters as '?', cut to SIZE. */
const char *sm_addr_shown(const char *s, char *out, size_t size);
int sm_addr_canon_quiet(const char *addr, char **canon);   /* 0 or -1 */
int sm_addr_same(const char *a, const char *b);  /* the same identity? */

/* ---- account.c: account records ---------------------------------- */

enum { SM_INVITED = 1, SM_ACTIVE = 2 };
enum { SM_RESET_NONE, SM_RESET_REQUESTED, SM_RESET_WAITING, SM_RESET_APPROVED };

struct sm_account {
	char *addr;                    /* as given */
	char *canon;
	char *first, *last;
	int state;
	int64_t created;
	uint64_t failed;               /* attempts counted, not yet cleared */
	int64_t lock_until;
	struct sm_pubkeys pub;
	int has_pw;
	struct sm_pwparams pw;
	unsigned char pw_wrap[SM_WRAP_BYTES];
	unsigned char rec_seal[SM_SEAL_BYTES];
	int has_inv;
	unsigned char inv_hash[32];
	int64_t inv_expires;
	unsigned char inv_wrap[SM_WRAP_BYTES];
	int inv_renew;                 /* renewal waits for approve */
	sm_buf hist;                   /* encrypted password history */
	/* password reset */
	int reset;
	unsigned char rs_hash[32];
	int64_t rs_expires;
	struct sm_pwparams rs_pw;
	unsigned char rs_tpk[32];
	sm_buf rs_tsk;                 /* transfer sk wrapped under the new password */
	uint64_t rs_mismatch;
	sm_buf rs_skel;                /* skeleton sealed to the recovery key */
	sm_buf rs_xfer;                /* account keys sealed to rs_tpk */
	int64_t rs_mails[3];           /* when the last reset mails went */
	sm_buf sessions;               /* ids (32 bytes each) of live sessions */
	int has_code;                  /* registered, or invited, with an access code */
	struct sm_pwparams code_pw;
	sm_buf code_check;             /* opens under the code's key: proof of the code */
	/* access code checks: their own count and lock, apart from the
	 * password's */
	uint64_t code_failed;          /* code attempts counted, not yet cleared */
	int64_t code_lock_until;
	uint64_t code_locks;           /* code locks in a row (each one longer) */
};

struct sm_code {                   /* an access code, through Argon2id */
	struct sm_pwparams pw;
	unsigned char A[32];
};

void sm_account_free(struct sm_account *a);
/* 0, 67 when there is no such account, or 74. */
int sm_account_get(sm_portal *p, const char *canon, struct sm_account *a);
int sm_account_put(sm_portal *p, const struct sm_account *a);
int sm_account_decode(struct sm_account *a, const unsigned char *v, size_t n);
void sm_account_encode(sm_buf *b, const struct sm_account *a);
/* Is the password locked (lock_until), are access code checks locked
 * (code_lock_until)? */
int sm_account_locked(const sm_portal *p, const struct sm_account *a);
int sm_account_code_locked(const sm_portal *p, const struct sm_account *a);
const char *sm_account_state(const sm_portal *p, const struct sm_account *a);
/* Splits "First Last" (last word is the last name). */
void sm_name_split(const char *name, char **first, char **last);
int sm_name_check(const char *name);   /* 65 on control characters */

/* Provisioning (smail-admin). */
int sm_account_add(sm_portal *p, const char *addr, const char *name,
    const char *pw);
int sm_account_invite(sm_portal *p, const char *addr, const char *name,
    const unsigned char *recovery_sk, const char *by);
int sm_account_unlock(sm_portal *p, const char *addr);
/* In a write transaction: a fresh invitation token for A (made here
 * when NEW), its mail staged in *MAILNAME; 1 when an existing account
 * must wait for approve (no RSK).  The caller puts A. */
int sm_invite_prepare(sm_portal *p, struct sm_account *a, int new,
    const char *addr, const char *name, const unsigned char *rsk,
    const char *by, const char *why, const struct sm_code *code,
    char **mailname);

/* ---- code.c: access codes -------------------------------------------- */

/* Reads the code (FILE, or the terminal) into *CODE (secret memory,
 * sm_secret_free); 77 at once with no way to read it. */
int sm_code_get(const char *file, char **code);
/* Runs Argon2id over CODE with fresh parameters (PW NULL) or the
 * account's.  A check runs it only once the attempt is counted. */
int sm_code_key(const sm_portal *p, const char *code, struct sm_code *c,
    const struct sm_pwparams *pw);
/* Both at once, for a sender setting a code (nothing to count). */
int sm_code_read(const sm_portal *p, const char *file, struct sm_code *c,
    const struct sm_pwparams *pw);
/* KEY = BLAKE2b(key = A, KEY): the token's key with the code mixed in. */
void sm_code_mix(unsigned char key[32], const unsigned char A[32]);
/* The proof kept after registration, and its check. */
void sm_code_check_make(struct sm_account *a, const unsigned char A[32]);
int sm_code_check_open(const struct sm_account *a, const unsigned char A[32]);
int sm_account_list(sm_portal *p, FILE *out, int json);

/* ---- history.c: the encrypted password history ------------------- */

void sm_skeleton(const char *pw, char **out);  /* digits removed, folded */
/* 0 not in history, 65 reused (message printed), 74. */
int sm_history_check(const struct sm_account *a, const struct sm_keys *k,
    const char *skel);
int sm_history_entry(const char *skel, char out[128]);
int sm_history_add(struct sm_account *a, const struct sm_keys *k,
    const char *entry);

/* ---- policy.c: the password policy (SPEC §3) ---------------------- */

/* Prints every broken rule on its own line; 0 or 65 (78: no dictionary). */
int sm_policy_check(const sm_portal *p, const char *pw, const char *addr,
    const char *first, const char *last);

/* ---- passwd.c: reading passwords ---------------------------------- */

/* PROMPT on /dev/tty without echo, or --password-file / --password-fd.
 * CONFIRM asks twice on a terminal.  77 at once with no source. */
int sm_read_password(const struct sm_opts *o, const char *prompt,
    int confirm, char **pw);
int sm_read_password_from(const char *file, int fd, const char *prompt,
    int confirm, const char *hint, char **pw);
int sm_have_password_source(const struct sm_opts *o);

/* ---- session.c: sessions ------------------------------------------ */

struct sm_ident {
	char *addr, *canon;
	struct sm_keys *keys;          /* secret memory */
	struct sm_pubkeys pub;
};

void sm_ident_free(struct sm_ident *id);
char *sm_session_dir(void);
/* In a write transaction: a new session for A (its list updated; the
 * caller puts A), replacing the one this runtime directory held.  S
 * gets the secret for sm_session_file_write after the commit. */
int sm_session_create(sm_portal *p, struct sm_account *a,
    const struct sm_keys *k, unsigned char S[32]);
int sm_session_file_write(sm_portal *p, const char *canon,
    const unsigned char S[32]);
/* Live session for CANON (NULL: the most recently used): 0 with the
 * keys, 1 none, 77 expired (both halves wiped, reason printed). */
int sm_session_use(sm_portal *p, const char *canon, struct sm_ident *id);
/* The live session's address without using it (--status): 0 or 77. */
int sm_session_status(sm_portal *p, const char *user, char **addr);
int sm_logout(sm_portal *p, const char *user);
/* In a write transaction: ends every session of A. */
int sm_sessions_wipe(sm_portal *p, struct sm_account *a);

/* ---- auth.c: passwords under the lockout rules --------------------- */

/* Reads the password (PROMPT) and checks it, counting the attempt
 * first.  A gets the account, K its keys, *PW the password (optional). */
int sm_password_verify(sm_portal *p, const struct sm_opts *o,
    const char *canon, const char *prompt, struct sm_account *a,
    struct sm_keys *k, char **pw);
/*
 * Attempts, counted and synced under the write lock before Argon2id
 * runs.  KIND: SM_ATTEMPT_PASSWORD (the account's failed, lock_until
 * and lock_time) or SM_ATTEMPT_CODE (an access code, at registration or
 * reset: its own count, and a lock that doubles with each further one,
 * sm_code_lock_time).  An attempt stays counted until a success clears
 * the count, whether it is under way, was wrong, or was killed: once
 * lock_attempts are counted, the next attempt locks instead of running,
 * so that no more than lock_attempts checks run between two successes
 * however many run at once.  A result that comes back when a lock was
 * set meanwhile, right or wrong, gets the lock's answer.
 */
#define SM_ATTEMPT_PASSWORD 0
#define SM_ATTEMPT_CODE 1
/* 0, or 77 with the lock's message when KIND is locked for A. */
int sm_attempt_locked(const sm_portal *p, const struct sm_account *a, int kind);
/* 0 with A the account as counted; 77 locked (or locked now), or not
 * registered (passwords). */
int sm_attempt_count(sm_portal *p, const char *canon, int kind,
    struct sm_account *a);
/* A wrong password or code: logged (login-failed), locks at
 * lock_attempts; always 77 with the answer printed. */
int sm_attempt_failed(sm_portal *p, const char *canon, int kind);
/* A right one: the count (and a code's escalation) starts over; a
 * password's is logged (login).  77 when a lock set meanwhile refuses it. */
int sm_attempt_passed(sm_portal *p, const char *canon, int kind);
/* How long the code lock that follows N code locks in a row lasts:
 * LOCK_TIME doubled N times, at most a day (or LOCK_TIME, if longer). */
int64_t sm_code_lock_time(int64_t lock_time, uint64_t n);
/* Signs in with the password and opens a session. */
int sm_login(sm_portal *p, const struct sm_opts *o, const char *addr,
    struct sm_ident *id);
/* The acting account: -u, SMAIL_USER, else the most recently used
 * session.  A live session, else the password (opening a session).
 * 77 signed out, wrong password or locked; 67 no such account. */
int sm_auth(sm_portal *p, const struct sm_opts *o, struct sm_ident *id);

/* ---- register.c: invitations claimed, passwords changed ----------- */

/* Checks TOKEN, reads the new password, installs fresh keys. */
int sm_register(sm_portal *p, const struct sm_opts *o, const char *addr,
    const char *name, const unsigned char token[32], const char *code_file);
int sm_change_password(sm_portal *p, const struct sm_opts *o,
    const char *addr, const char *newfile, int newfd);
int sm_password_changed_mail(sm_portal *p, const char *addr, const char *how);

/* ---- reset.c: password reset and approval ------------------------- */

int sm_reset_request(sm_portal *p, const struct sm_opts *o, const char *addr,
    const char *code_file);
int sm_reset_activate(sm_portal *p, const struct sm_opts *o, const char *addr,
    const unsigned char token[32]);
/* smail-admin cancel-reset: ends a pending, waiting or approved reset. */
int sm_reset_cancel(sm_portal *p, const char *addr);
/* smail-admin approve: a waiting reset or invitation renewal. */
int sm_approve(sm_portal *p, const char *addr, const unsigned char rsk[32]);
/* Finishes an approved reset with the new password (from
 * sm_password_verify): 0 and K, 77 not the new password. */
int sm_reset_finish(sm_portal *p, struct sm_account *a, const char *pw,
    struct sm_keys *k);

/* ---- notify.c: notification mail ---------------------------------- */

struct sm_mail {
	const char *to;                /* address */
	const char *subject;           /* UTF-8 */
	sm_buf body;                   /* UTF-8 text, LF line ends */
};

/* Writes the mail into queue/tmp (before the transaction commits). */
int sm_mail_stage(sm_portal *p, const struct sm_mail *m, char **name);
/* After the commit: into queue/new, then delivered; a delivery failure
 * is a warning and the mail stays queued. */
int sm_mail_post(sm_portal *p, const char *name);
int sm_mail_post_many(sm_portal *p, char *const *names, size_t n);
int sm_mail_sync(sm_portal *p);
/* The transaction failed: wipe the staged mail. */
void sm_mail_discard(sm_portal *p, const char *name);
/* Delivers everything queued (smail-admin flush): counts of mails
 * delivered, left queued (try again later) and refused for good (set
 * aside in queue/rejected). */
int sm_mail_flush(sm_portal *p, unsigned *delivered, unsigned *left,
    unsigned *rejected);

/* ---- smtp.c: delivery to a relay ------------------------------------ */

/* One queued mail to the relay: 0, 75 try later, 65 refused (REASON). */
int sm_smtp_send(sm_portal *p, const char *text, size_t len, char **reason);
void sm_smtp_close(sm_portal *p);
/* The address of a queued mail's "To: <addr>" line, or NULL. */
char *sm_mail_rcpt(const char *text, size_t len);
/* Is the relay of URL (smtp_url) on this machine, where a token may go
 * without TLS?  Only an IPv4 literal in 127.0.0.0/8 in strict
 * dotted-quad form, [::1] and localhost (which libcurl is then made to
 * reach at 127.0.0.1) are, and only as libcurl itself reads the URL's
 * host; never a URL with user information. */
int sm_smtp_loopback(const char *url);

/* ---- message.c: the message container ----------------------------- */

#define SM_ID_CHARS 16
#define SM_CHUNK 65536
#define SM_STANZA_BYTES (48 + 32 + SM_ID_CHARS)
enum { SM_KIND_MESSAGE, SM_KIND_DRAFT };

struct sm_part {
	uint32_t nchunks;
	uint64_t size;                 /* plaintext bytes */
	unsigned char ssh[24];         /* secretstream header */
	unsigned char *hashes;         /* BLAKE2b-256 of each ciphertext chunk */
};

struct sm_env {                    /* the signed header "m:ID" */
	char id[SM_ID_CHARS + 1];
	char *from;                    /* sender, canonical */
	unsigned char from_pk[32];     /* sender's Ed25519 key */
	int64_t date, expires;
	int kind;
	size_t nrcpt;
	char **rcpt;                   /* canonical */
	unsigned char *stanzas;        /* nrcpt * SM_STANZA_BYTES */
	size_t nparts;
	struct sm_part *parts;
	unsigned char sig[64];
	size_t signed_len;
	unsigned char hash[32];        /* BLAKE2b of the whole header */
};

struct sm_msgw {                   /* a message being written */
	sm_portal *p;
	struct sm_env env;
	unsigned char *K;
	const struct sm_keys *keys;
	int cur;
	unsigned char *buf, *ct;
	size_t buflen;
	unsigned stored;
	crypto_secretstream_xchacha20poly1305_state st;
	crypto_generichash_state ph;
};

/* hashwork.c: BLAKE2b on a helper thread, one job at a time: an update
 * of ST, or (ST NULL) a 32-byte hash into OUT; the data stays put until
 * sm_hash_wait. */
void sm_hash_post(crypto_generichash_state *st, const void *p, size_t n,
    unsigned char out[32]);
void sm_hash_wait(void);

void sm_id_new(char id[SM_ID_CHARS + 1]);
int sm_id_valid(const char *id);
char *sm_chunk_key(const char *id, unsigned part, uint32_t n);
int sm_env_decode(struct sm_env *e, const unsigned char *v, size_t n);
void sm_env_free(struct sm_env *e);
/* Decodes and verifies the header: 0, 66 no such message, 65 tampered. */
int sm_env_get(sm_portal *p, const char *id, struct sm_env *e);
int sm_env_rcpt(const struct sm_env *e, const char *canon);
/* The content key for CANON (its stanza, or the one re-sealed at
 * registration): 0, 66 not a recipient, 65 does not open. */
int sm_env_key(sm_portal *p, const struct sm_env *e, const char *canon,
    const struct sm_keys *k, unsigned char K[32]);
int sm_env_reseal(sm_portal *p, const struct sm_env *e, const char *canon,
    const struct sm_keys *old, const unsigned char new_pk[32]);

/* Writing, inside a write transaction: init, each part (any order),
 * recipients, finish (signs and stores the header); abort removes
 * what was stored. */
int sm_msgw_init(struct sm_msgw *w, sm_portal *p, const char *from_canon,
    const unsigned char from_pk[32], const struct sm_keys *k, size_t nparts);
int sm_msgw_part_begin(struct sm_msgw *w, unsigned part);
int sm_msgw_part_write(struct sm_msgw *w, const void *data, size_t n);
int sm_msgw_part_end(struct sm_msgw *w, unsigned char hash[32]);
void sm_msgw_rcpt(struct sm_msgw *w, const char *canon,
    const unsigned char box_pk[32]);
int sm_msgw_finish(struct sm_msgw *w);
void sm_msgw_abort(struct sm_msgw *w);
void sm_msgw_free(struct sm_msgw *w);

/* Reading: streams a part through OUT, verifying as it goes. */
int sm_part_read(sm_portal *p, const struct sm_env *e, const unsigned char K[32],
    unsigned part, int (*out)(void *, const void *, size_t), void *arg,
    unsigned char hash[32]);
int sm_part_load(sm_portal *p, const struct sm_env *e, const unsigned char K[32],
    unsigned part, sm_buf *out, unsigned char hash[32]);
int sm_msg_wipe(sm_portal *p, const struct sm_env *e);

/* ---- statement.c: part 0, the sender's signed statement ----------- */

struct sm_pref {                   /* a part the statement names */
	uint32_t part;
	uint64_t size;
	unsigned char hash[32];        /* BLAKE2b-256 of the plaintext */
};

struct sm_stmt {
	char id[65];
	char *from, *from_name;        /* address as given, display name */
	unsigned char from_pk[32];
	char **to, **cc;
	size_t nto, ncc;
	int64_t date;
	char *subject;
	struct sm_pref body;           /* always part 1 */
	int has_html;
	struct sm_pref html;
	struct sm_att {
		char *name;
		struct sm_pref ref;
		unsigned from_orig;    /* as in struct sm_src */
	} *att;
	size_t natt;
	char reply_to[65], forward_of[65];
	sm_buf orig;                   /* a forward: the original statement */
	uint64_t orig_offset;          /* where the quoted original starts */
	int orig_atts;                 /* a forward that says which attachments
	                                * it carries from the original (from_orig);
	                                * older forwards do not */
	unsigned char sig[64];
};

void sm_stmt_free(struct sm_stmt *s);
/* Encodes and signs with K's Ed25519 key. */
void sm_stmt_encode(sm_buf *b, const struct sm_stmt *s, const struct sm_keys *k);
/* 0, -1 malformed, -2 signature does not verify. */
int sm_stmt_decode(struct sm_stmt *s, const unsigned char *v, size_t n);
size_t sm_stmt_nparts(const struct sm_stmt *s);
/* Reads part 0 of E and checks it against the header: 0 or 65. */
int sm_stmt_load(sm_portal *p, const struct sm_env *e, const unsigned char K[32],
    struct sm_stmt *s);

/* ---- inbox.c: indexes, the delivery queue, holders ----------------- */

#define SM_F_READ 1
#define SM_F_ATT 2

struct sm_entry {
	char id[SM_ID_CHARS + 1];
	int64_t date, expires;         /* expires 0: never */
	unsigned flags;
	unsigned char K[32];           /* the message's content key */
	char *from, *subject, *to;
	size_t seq;                    /* arrival order, for sorting */
	int seg;                       /* its segment in the index's list; -1 new */
};

/* An index is kept in segments of at most SM_INDEX_SEG entries, each
 * its own encrypted record, so that a change rewrites only the segments
 * it touches, whatever the index's size. */
#define SM_INDEX_SEG 128
struct sm_iseg {
	uint32_t no;                   /* "X:ADDR:NO" */
	int dirty;                     /* an entry of it changed or went */
};

struct sm_index {
	struct sm_entry *v;
	size_t n, cap;
	struct sm_iseg *seg;           /* the segments, oldest first */
	size_t nseg;
	uint32_t next;                 /* the next segment's number */
	int legacy;                    /* read from the one-record form */
};

void sm_index_free(struct sm_index *ix);
struct sm_entry *sm_index_add(struct sm_index *ix);  /* may move entries */
struct sm_entry *sm_index_find(struct sm_index *ix, const char *id);
void sm_index_drop(struct sm_index *ix, struct sm_entry *e);
void sm_index_sort(struct sm_index *ix);             /* newest first */
/* An entry's flags changed: its segment is written at the next save. */
void sm_index_touch(struct sm_index *ix, struct sm_entry *e);
/* A segment's entries (IX gets them, as new ones). */
int sm_index_decode(struct sm_index *ix, const unsigned char *v, size_t n);
/* The head record "X:ADDR": the segments' numbers.  0 or -1. */
int sm_index_head_decode(struct sm_index *ix, const unsigned char *v, size_t n);
/* WHICH: 'x' messages, 'y' drafts.  In a transaction. */
int sm_index_load(sm_portal *p, const struct sm_ident *id, int which,
    struct sm_index *ix);
/* Writes the segments that changed (IX keeps track of them). */
int sm_index_save(sm_portal *p, const struct sm_ident *id, int which,
    struct sm_index *ix);
/* In a write transaction: the index with the queue folded in.  *BAD is
 * set when a queued message failed to verify (reported, kept queued). */
int sm_inbox_open(sm_portal *p, const struct sm_ident *id, struct sm_index *ix,
    int *bad);
/* Does CANON still hold message ID (among its holders)? */
int sm_holds(sm_portal *p, const char *id, const char *canon);
/* A read mark for message MID, folded into the index at the next
 * listing ("u:ADDR"). */
int sm_read_mark(sm_portal *p, const struct sm_ident *id, const char *mid);
int sm_inbox_fold(sm_portal *p, const struct sm_ident *id, struct sm_index *ix,
    int *changed, sm_buf *kept);
int sm_inbox_rekey(sm_portal *p, const char *canon, const struct sm_keys *old,
    const unsigned char new_pk[32]);
int sm_entry_make(sm_portal *p, const struct sm_ident *id, const char *mid,
    struct sm_entry *out);
int sm_env_check_sender(sm_portal *p, const struct sm_env *e);
int sm_deliver(sm_portal *p, const char *id, const char *canon);
int sm_queued(sm_portal *p, const char *canon, const char *id);
int sm_unqueue(sm_portal *p, const char *canon, const char *id);
int sm_holders_set(sm_portal *p, const char *id, char *const *canon, size_t n);
int sm_release(sm_portal *p, const char *id, const char *canon, int *last);
int sm_wipe_unheld(sm_portal *p, const char *id);

/* ---- send.c: composing and storing a message ----------------------- */

#define SM_MAX_ATTACHMENTS 10
#define SM_MAX_ATTACHMENT_BYTES 31457280ULL    /* 30 MiB, inclusive */
#define SM_MAX_BODY (16 << 20)
#define SM_MAX_RECIPIENTS 1000

struct sm_src {                    /* an attachment to send */
	char *name;                    /* as stored: any bytes but '/' and NUL */
	uint64_t size;
	char *path;                    /* a file, opened before the transaction */
	int fd;
	const struct sm_env *env;      /* or a part of a stored message */
	const unsigned char *K;
	unsigned part;
	unsigned from_orig;            /* a forward: 1 + the index of the original's
	                                * attachment it carries; 0 added */
};

struct sm_compose {
	char **to, **cc;               /* addresses as given */
	size_t nto, ncc;
	char **bcc;                    /* recipients shown nowhere (sendmail -t) */
	size_t nbcc;
	char *subject;
	sm_buf body;
	int has_html;
	sm_buf html;
	struct sm_src *att;
	size_t natt;
	char reply_to[65], forward_of[65];
	sm_buf orig;                   /* a forward: the original statement */
	uint64_t orig_offset;
	int64_t ttl;                   /* -E; 0: message_ttl */
	const struct sm_code *code;    /* --access-code-file, for invitations */
};

void sm_compose_free(struct sm_compose *c);
void sm_compose_addr(char ***v, size_t *n, const char *addr);
int sm_compose_attach(struct sm_compose *c, const char *path);
/* An attachment already open (a memfd from a MIME part): FD is taken. */
void sm_compose_attach_fd(struct sm_compose *c, const char *name, int fd,
    uint64_t size);
/* mime.c: a whole RFC 5322 message read from FD (smail-send -t) into C; *FROM gets
 * its From address, if any.  65 for a malformed one. */
int sm_compose_from_mime(int fd, struct sm_compose *c, char **from);
void sm_compose_attach_part(struct sm_compose *c, const char *name,
    uint64_t size, const struct sm_env *e, const unsigned char *K, unsigned part);
/* The limits: 65 naming the one broken. */
int sm_compose_check(const struct sm_compose *c);
/* A batch's group: sm_send inside it shares one transaction; nothing of
 * the group is durable until sm_batch_commit returns 0. */
int sm_batch_begin(sm_portal *p);
int sm_batch_commit(sm_portal *p);
void sm_batch_abort(sm_portal *p);
/* Stores C as a message (or the sender's draft) and notifies. */
int sm_send(sm_portal *p, const struct sm_ident *from, struct sm_compose *c,
    int kind, char out_id[SM_ID_CHARS + 1]);

/* ---- read.c: opening, marking, deleting ----------------------------- */

/* What a forward's reader is told of each attachment. */
enum { SM_FWD_UNCHECKED, SM_FWD_ADDED, SM_FWD_ORIGINAL, SM_FWD_UNVERIFIED };

struct sm_opened {
	struct sm_env env;
	struct sm_stmt stmt;
	unsigned char K[32];
	int orig_verified;             /* a forward: its quoted original and every
	                                * attachment it says is the original's check */
	unsigned char fwd_att[64];     /* a forward: SM_FWD_* of each attachment */
};

void sm_opened_free(struct sm_opened *o);
/* WHICH: 'x' a message, 'y' a draft.  66 not held, 65 tampered. */
int sm_msg_open(sm_portal *p, const struct sm_ident *id, const char *mid,
    int which, struct sm_opened *o);
/* Reads every part through: 0 or 65 (tampered). */
int sm_msg_verify(sm_portal *p, struct sm_opened *o, const unsigned char *skip);
int sm_mark_read(sm_portal *p, const struct sm_ident *id, char *const *mids,
    size_t n);
int sm_delete(sm_portal *p, const struct sm_ident *id, char *const *mids,
    size_t n);

/* ---- export.c: writing a message out -------------------------------- */

struct sm_out {
	int fd;
	const char *name;              /* for messages */
	int unnamed;                   /* O_TMPFILE: named at a good close */
};

int sm_out_write(void *out, const void *p, size_t n);
/* A new file PATH, 0600, that appears only when closed with OK (an
 * unnamed file linked in then; where the file system cannot, created
 * O_EXCL|O_NOFOLLOW and removed when not OK): 73 when PATH exists. */
int sm_out_create(struct sm_out *o, const char *path);
/* Closes (fsync and, for an unnamed file, the link when OK); a file
 * closed not OK is gone.  73 when PATH appeared meanwhile. */
int sm_out_close(struct sm_out *o, int ok);
char *sm_safe_name(const char *name);
/* The names the attachments of S get in a directory or a zip: safe,
 * unique, none TAKEN or TAKEN2 (NULL: none).  Free with sm_names_free. */
char **sm_att_names(const struct sm_stmt *s, const char *taken,
    const char *taken2);
void sm_names_free(char **v, size_t n);
void sm_text_head(sm_buf *b, const struct sm_opened *o);
int sm_text_view(sm_portal *p, struct sm_opened *o, sm_buf *b);
int sm_att_find(const struct sm_stmt *s, const char *name);
int sm_write_att(sm_portal *p, struct sm_opened *o, size_t i, struct sm_out *out);
/* DIR/ID.txt and the attachments; refuses before writing if any exists. */
int sm_export_dir(sm_portal *p, struct sm_opened *o, const char *dir);
int sm_export_zip(sm_portal *p, struct sm_opened *o, struct sm_out *out);
int sm_export_eml(sm_portal *p, struct sm_opened *o, struct sm_out *out);

/* ---- forward.c: a forward's original, checked ----------------------- */

/* Checks forward O against the original statement it carries: the
 * statement's signature and that its key is its sender account's, the
 * quoted body, and each attachment the forward says is the original's
 * (name, size and the BLAKE2b of what it holds).  Sets
 * O->orig_verified and O->fwd_att. */
void sm_forward_verify(sm_portal *p, struct sm_opened *o);
/* The judgement itself, from what the caller read: ORIG the decoded
 * original statement (NULL: none that decodes), SIGNER_OK whether its
 * key is its sender's, BODY the forward's body, AH[i] the BLAKE2b of
 * attachment i's content when HAVE[i].  Reads nothing. */
void sm_forward_judge(struct sm_opened *o, const struct sm_stmt *orig,
    int signer_ok, const unsigned char *body, size_t blen,
    const unsigned char (*ah)[32], const unsigned char *have);
/* What the text view says of attachment I: "" outside forwards. */
const char *sm_forward_mark(const struct sm_opened *o, size_t i);

/* ---- ids.c: message ids from operands or standard input ------------- */

int sm_ids_collect(int argc, char **argv, char ***out, size_t *n);
/* Ids one a line (first field); appends to V.  65 on a malformed one. */
int sm_ids_parse(const char *text, size_t len, char ***v, size_t *n);
void sm_ids_free(char **v, size_t n);

/* ---- compose.c: replies, forwards, resumed drafts ------------------- */

void sm_compose_reply(const struct sm_ident *id, const struct sm_opened *o,
    int all, struct sm_compose *c);
/* Body: TEXT, the "Originally sent by" line, the original body; the
 * original's attachments but DROP; subject "Fwd: " once. */
int sm_compose_forward(sm_portal *p, struct sm_opened *o, const sm_buf *text,
    char *const *drop, size_t ndrop, struct sm_compose *c);
/* A draft under what C already holds from the command line. */
int sm_compose_from_draft(sm_portal *p, struct sm_opened *o, int keep_body,
    char *const *drop, size_t ndrop, struct sm_compose *c);

/* ---- addrbook.c, vcard.c: the address book -------------------------- */

struct sm_contact {
	char *first, *last, *addr;     /* names may be empty, never NULL */
};

struct sm_group {
	char *name;
	char **members;                /* addresses of contacts */
	size_t n;
};

struct sm_book {
	struct sm_contact *c;
	size_t nc;
	struct sm_group *g;
	size_t ng;
};

void sm_book_free(struct sm_book *b);
int sm_book_text_ok(const char *s);
int sm_group_name_ok(const char *g);
struct sm_contact *sm_book_contact(struct sm_book *b, const char *addr);
void sm_book_set_contact(struct sm_book *b, const char *addr,
    const char *first, const char *last);
int sm_book_remove_contact(struct sm_book *b, const char *addr);
struct sm_group *sm_book_group(struct sm_book *b, const char *name, int create);
int sm_group_has(const struct sm_group *g, const char *addr);
void sm_group_add(struct sm_group *g, const char *addr);
int sm_group_remove(struct sm_group *g, const char *addr);
void sm_book_delete_group(struct sm_book *b, struct sm_group *g);
void sm_book_sort(struct sm_book *b);   /* last, first name; groups by name */
void sm_contact_display(const struct sm_contact *c, sm_buf *out);
int sm_book_decode(struct sm_book *b, const char *text, size_t len);
/* In a transaction. */
int sm_book_load(sm_portal *p, const struct sm_ident *id, struct sm_book *b);
int sm_book_save(sm_portal *p, const struct sm_ident *id, const struct sm_book *b);
/* "@group" to its members; 66 for an unknown group. */
int sm_book_expand(sm_portal *p, const struct sm_ident *id, char ***v, size_t *n);
/* vCard or CSV into B, all or nothing: 65 naming FILE:LINE. */
int sm_book_import(struct sm_book *b, const char *text, size_t len,
    const char *file);
void sm_book_export(const struct sm_book *b, sm_buf *out);

/* ---- check.c: verifying the store without secret keys -------------- */

/* Every file under the portal, the local mailbox's included: safe
 * (ours, 0600/0700, no links), or 78 naming the first that is not. */
int sm_portal_check_files(sm_portal *p);
/* Prints ID<TAB>PROBLEM for each bad record to OUT; NBAD counts them.
 * ANCHORS ("-": standard input), if given, is checked against the log. */
int sm_check(sm_portal *p, const char *anchors, FILE *out, unsigned *nbad,
    unsigned *nmsg);

/* ---- backup.c: backup and restore ----------------------------------- */

/* A tar archive (0600): the store's dump under the lock and the config;
 * the recovery key RSK too when given, wrapped under PASS. */
int sm_backup(sm_portal *p, const char *file, const char *pass,
    const unsigned char *rsk);
int sm_restore(const char *file, const char *dir, const struct sm_opts *o,
    int skip_rk);

/* ---- manifest.c: batch manifest lines ------------------------------- */

struct sm_mline {
	char **rcpt;                   /* addresses or @groups */
	size_t nrcpt;
	char *subject, *body;          /* BODYFILE */
	char **att;                    /* attachment files */
	size_t natt;
};

/* 0 a message, 1 a blank or comment line, 65 malformed (reason printed). */
int sm_manifest_line(const char *line, size_t len, struct sm_mline *m);
void sm_mline_free(struct sm_mline *m);

/* ---- json.c: --json output ------------------------------------------- */

void sm_json_begin(sm_buf *b);
void sm_json_str(sm_buf *b, const char *key, const char *v);
void sm_json_int(sm_buf *b, const char *key, long long v);
void sm_json_end(sm_buf *b);      /* "}\n" */

/* ---- audit.c: the security log -------------------------------------- */

int sm_audit_event_ok(const char *event);
/* In a write transaction: appends an entry (never content). */
int sm_audit(sm_portal *p, const char *event, const char *account,
    const char *id);
/* Its own transaction. */
int sm_audit_now(sm_portal *p, const char *event, const char *account,
    const char *id);
/* In a transaction: prints entries (ACCOUNT's only, when given); reports
 * broken links, and a head that is not the last entry's or not signed by
 * portal.key, to PROBLEM; 65 when the log does not verify. */
int sm_audit_walk(sm_portal *p, FILE *out, const char *account, int json,
    void (*problem)(void *, const char *, const char *), void *arg);
/* When the portal closes: the last head this process wrote goes to the
 * anchor outside the store (audit_anchor), best effort; frees the key. */
void sm_audit_close(sm_portal *p);
/* A portal without portal.key (restored without it): makes one and
 * signs the log's head with it.  Its own transaction; 0 when there is
 * a key already. */
int sm_audit_rekey(sm_portal *p);

/* Anchors: "smail-audit-anchor portal=ID seq=N hash=HEX sig=B64" in a
 * line of the anchor file or the journal. */
struct sm_anchor {
	unsigned char portal[16];
	uint64_t seq;
	unsigned char hash[32], sig[64];
};
/* 1: LINE holds an anchor, now in A; 0: it holds none; -1: malformed. */
int sm_anchor_parse(const char *line, size_t len, struct sm_anchor *a);
struct sm_anchors;
/* Reads this portal's anchors from FILE ("-": standard input), before
 * any transaction; 66 or 74 when it cannot be read. */
int sm_anchors_read(sm_portal *p, const char *file, struct sm_anchors **out);
/* In a transaction: reports to PROBLEM every anchored entry the log no
 * longer holds, or holds with another hash. */
void sm_anchors_check(sm_portal *p, struct sm_anchors *a,
    void (*problem)(void *, const char *, const char *), void *arg);
void sm_anchors_free(struct sm_anchors *a);

/* ---- lifecycle.c: expiry, recall, delivery records, purge ------------ */

struct sm_dlv_rcpt {
	char *addr;                    /* canonical */
	char state[12];                /* invited notified read deleted recalled */
	int64_t when;
};

struct sm_dlv {                    /* "d:ID": the sender's delivery record */
	int64_t date, expires;
	char *sender;
	struct sm_dlv_rcpt *rcpt;
	size_t n;
};

struct sm_purged {
	unsigned messages, leftovers, sessions, tokens;
};

int64_t sm_expiry(const sm_portal *p, int64_t ttl);
void sm_dlv_free(struct sm_dlv *d);
int sm_dlv_decode(struct sm_dlv *d, const char *text, size_t len);
int sm_dlv_get(sm_portal *p, const char *id, struct sm_dlv *d);
int sm_dlv_put(sm_portal *p, const char *id, const struct sm_dlv *d);
int sm_dlv_start(sm_portal *p, const struct sm_env *e, char *const *canon,
    const char *const *state, size_t n);
int sm_dlv_mark(sm_portal *p, const char *id, const char *canon,
    const char *state);
int sm_sent_list(sm_portal *p, const struct sm_ident *id, FILE *out, int json,
    long limit);
int64_t sm_recalled(sm_portal *p, const char *id);
struct sm_recalls {                /* the recalled messages' ids */
	char *ids;                 /* n sorted ids, SM_ID_CHARS each */
	size_t n;
	int valid;                 /* 0: unreadable, look each up */
};
void sm_recalls_load(sm_portal *p, struct sm_recalls *r);
void sm_recalls_free(struct sm_recalls *r);
int sm_entry_live(sm_portal *p, const struct sm_entry *e, const struct sm_recalls *r);
/* 66 with the reason when the message is recalled or expired. */
int sm_msg_over(sm_portal *p, const char *id, int64_t expires);
int sm_recall(sm_portal *p, const struct sm_ident *id, const char *mid);
int sm_dlv_over(sm_portal *p, const char *id, const char *canon);
int sm_purge(sm_portal *p, struct sm_purged *st);
int sm_sessions_purge(sm_portal *p, unsigned *count);
void sm_reset_clear(struct sm_account *a);
int sm_store_reorganize(sm_portal *p);

/* ---- sigzip.c: signed exports ---------------------------------------- */

/* The portal's Ed25519 key (portal.key), made on first use. */
/* CREATE: make it when missing; else 66 when there is none. */
int sm_portal_signkey(sm_portal *p, unsigned char sk[64], int create);
int sm_portal_signkey_write(sm_portal *p, const unsigned char sk[64]);
/* A short fingerprint of a public key (16 hex digits). */
char *sm_fingerprint(const unsigned char pk[32]);
void sm_mf_begin(sm_buf *m, const struct sm_opened *o,
    const unsigned char portal_pk[32]);
void sm_mf_file(sm_buf *m, const char *name, const unsigned char sha[32], int att);
void sm_mf_finish(sm_buf *m, const sm_buf *stmt, size_t body_off,
    size_t body_size, const unsigned char portal_sk[64]);
/* A portal key to pin, as --portal-key takes it: a fingerprint (16 hex
 * digits) or the whole key in base64url.  0 or 64. */
int sm_pin_parse(const char *arg);
/* Checks a zip from smail-fetch -z offline.  The portal key is pinned
 * by P (the portal at hand: its key, and the sender's account there)
 * or PIN (sm_pin_parse's argument), or both: 0 verified; 65 when
 * anything fails, and when nothing pins the portal key (the summary
 * says so). */
int sm_zip_verify(const char *file, sm_portal *p, const char *pin, FILE *out);

/* ---- seglist.c: append-only lists kept in segments ("q:", "S:") ----- */

/* All the items of list KEY (lines, oldest first) appended to OUT. */
int sm_seglist_get(sm_portal *p, const char *key, sm_buf *out);
/* One item at the end: a bounded read and write, whatever the length. */
int sm_seglist_append(sm_portal *p, const char *key, const char *item);
/* The list made ITEMS (N bytes of lines); N 0 removes it. */
int sm_seglist_put(sm_portal *p, const char *key, const void *items, size_t n);
int sm_seglist_remove(sm_portal *p, const char *key);
/* How many sealed segments list KEY has. */
int sm_seglist_segments(sm_portal *p, const char *key, unsigned *nseg);
/* Is KEY a segment's key ("q:ADDR:N"), and does its head name it? */
int sm_seglist_is_segment(const char *key);
int sm_seglist_named(sm_portal *p, const char *seg);

/* ---- progress.c: a progress line for long work ---------------------- */

struct sm_progress {
	const char *what, *unit;       /* "batch", "lines"; unit "bytes" is sized */
	uint64_t total, done;          /* total 0: unknown */
	double start, last;
	int on, drawn;
};

extern struct sm_progress *sm_progress_now;
/* On only when standard error is a terminal and -q was not given. */
void sm_progress_begin(struct sm_progress *pr, const char *what,
    const char *unit, uint64_t total);
void sm_progress_add(struct sm_progress *pr, uint64_t n);
void sm_progress_end(struct sm_progress *pr);

#endif
