/* `moor-shim` command line: start a container, print the default spec. */
#include "moor_shim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moor_protocol.h"
#include "moor_spec.h"
#include "shim-internal.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: moor-shim start --id ID --bundle DIR --state-dir DIR [options]\n"
            "       moor-shim spec      print a default config.json (Docker's defaults)\n"
            "       moor-shim version\n"
            "start options:\n"
            "  --socket PATH        control socket (default STATE_DIR/shim.sock)\n"
            "  --spool-dir DIR      output spool (default STATE_DIR/spool)\n"
            "  --spool-max BYTES    spool bound (default 1 GiB)\n"
            "  --lower DIR          overlay lower layer, top-most first (repeatable)\n"
            "  --upper DIR --work DIR  overlay upper and work directories\n"
            "  --stdin              keep a stdin pipe fed through the control socket\n"
            "  --shim-cgroup PATH   the shim's own cgroup (default /moor-shims/ID)\n");
}

static int cmd_spec(void)
{
    moor_err_t err = {0};
    char *json = NULL;
    if (moor_spec_default(&json, &err) < 0) {
        fprintf(stderr, "moor-shim: %s\n", err.msg);
        return 1;
    }
    fputs(json, stdout);
    fputc('\n', stdout);
    free(json);
    return 0;
}

int moor_shim_main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "start") == 0)
        return shim_cmd_start(argc - 1, argv + 1);
    if (strcmp(cmd, "spec") == 0)
        return cmd_spec();
    if (strcmp(cmd, "version") == 0) {
        printf("moor-shim %s protocol %d.%d\n", MOOR_SHIM_VERSION, MOOR_PROTO_MAJOR,
               MOOR_PROTO_MINOR);
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "moor-shim: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return 2;
}
