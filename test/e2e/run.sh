#!/usr/bin/env bash
echo "end-to-end harness not built yet"
