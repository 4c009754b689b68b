/* assert_unlinkable (spec_harness.py): a main that only instantiates module
 * m0, so that linking it fails exactly when one of its imports is missing.
 * The prototypes are deliberately open: only the link matters. */
#include <rvm/guest.h>

void Z_m0_init_module(void);
void Z_m0_instantiate();
extern char spectest_instance;

int main(void) {
    Z_m0_init_module();
    Z_m0_instantiate((void*)0, &spectest_instance);
    return 0;
}
