/* signals.c -- what SIGINT and SIGTERM do to the command.
 *
 * By default (every verb): remove the temporary files of the writes in
 * progress and exit with 128 + the signal number at once, so an interrupted
 * `data prepare` or checkpoint write leaves neither a half file nor its
 * temporary (every file is written to a temporary and renamed into place,
 * so the previous version stays whole).  Training asks for the graceful
 * mode: the first signal sets cli_stop, and lt_train finishes the batch,
 * saves last.safetensors and returns; a second signal exits at once as
 * above. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "ltsnn.h"

volatile int cli_stop;
static volatile sig_atomic_t graceful;

static void say(const char *s) { (void)!write(2, s, strlen(s)); }

static void on_signal(int sig)
{
    if (graceful && !cli_stop) {
        cli_stop = 1;
        say("\nltsnn: stopping after this batch and saving (interrupt again to stop at once)\n");
        return;
    }
    lt_afile_unlink_all();
    say("\nltsnn: interrupted\n");
    _exit(128 + sig);
}

void cli_catch_signals(int graceful_mode)
{
    graceful = graceful_mode;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* a file size limit (ulimit -f) makes write() fail with EFBIG, which
     * the writers report and clean up after, instead of killing the process
     * with its temporary file left behind */
    signal(SIGXFSZ, SIG_IGN);
}
