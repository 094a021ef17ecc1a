#include "moor_shim.h"

int main(int argc, char **argv)
{
    return moor_shim_main(argc, argv);
}
