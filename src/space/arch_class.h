/* Archs whose cells compute the same function: the classes of the space
 * under the cell's algebra, as a network at initialisation sees it.
 *
 * A node is the sum of its incoming edges' outputs; node 3 is the cell's
 * output.  So:
 *  - a node whose every input is `none` (or comes from such a node) is
 *    zero, and so is every op applied to it: a pool or a skip of zero is
 *    zero, and a ReLU-conv-BN of zero is zero while BatchNorm's shift is 0
 *    (at initialisation, in train mode: zero mean and zero deviation give
 *    zero);
 *  - an op whose node reaches no path to node 3 changes nothing;
 *  - a skip passes its node on unchanged, so a node reached by skips alone
 *    is the same sum as the one it skips from;
 *  - a sum does not depend on the order of its terms (nodes 1 and 2 may
 *    swap roles).
 * Two archs are in one class when their node 3 is the same sum of the same
 * ops applied to the same sums, all the way down to the cell's input.  Of
 * the 15,625 archs, 4,930 classes remain.
 *
 * What it is for: a proxy that reads only the network's function at
 * initialisation (AZ-NAS's expressivity, progressivity and trainability:
 * the blocks' output features and input-output Jacobians) gives every arch
 * of a class the same value up to the random draw of its weights, so it is
 * measured once per class, on the class's representative, and the atlas
 * scores 4,930 networks instead of 15,625.  Not for proxies that see every
 * unit or every weight (TE-NAS's linear regions, NWOT, SWAP, ZiCo count or
 * read the units of branches that reach no output), nor for trained
 * networks (a trained BatchNorm's shift makes a conv of zero a constant). */
#ifndef MN_ARCH_CLASS_H
#define MN_ARCH_CLASS_H

#include <stdint.h>

#include "space/arch.h"

/* rep[i]: the smallest arch index of arch i's class (rep[rep[i]] ==
 * rep[i] <= i).  0, or -1 when out of memory. */
int mn_arch_classes(uint16_t rep[MN_ARCH_COUNT]);

#endif
