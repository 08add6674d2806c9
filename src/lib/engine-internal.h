/* Shared between engine.c and engine-input.c; not part of the API. */
#ifndef SLUICE_ENGINE_INTERNAL_H
#define SLUICE_ENGINE_INTERNAL_H

#include "sluice/engine.h"

/* Flattens the workspace and rollout policy into e->rules (storage in
 * e->priv); called once the configuration is loaded. */
void sluice__engine_rules_init(sluice_engine *e);

/* Frees what sluice__engine_rules_init made. NULL-safe on e->priv. */
void sluice__engine_rules_clear(sluice_engine *e);

#endif
