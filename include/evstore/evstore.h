/*
 * evstore/evstore.h - umbrella header: everything evstore offers.
 */
#ifndef EVSTORE_H
#define EVSTORE_H

#include <evstore/errors.h>
#include <evstore/engine.h>
#include <evstore/snapshot.h>
#include <evstore/aggregate.h>
#include <evstore/bank.h>
#include <evstore/check.h>
#include <evstore/audit.h>

#endif
