;; The WebAssembly SIMD masking kernel (see mask-kernel.ts): XORs memory[ptr, ptr + len) in place
;; with a 32-bit key word, 64 bytes per loop turn, then 4 bytes, then byte by byte. WebAssembly
;; memory is little-endian: byte i of the word is the key byte i.
;; Regenerate mask-kernel-wasm.ts after an edit: `node --import tsx packages/core/scripts/build-mask-kernel.ts`.
(module
  (memory (export "memory") 1)
  (func (export "mask") (param $ptr i32) (param $len i32) (param $key i32)
    (local $end i32)
    (local $k v128)
    (local.set $k (i32x4.splat (local.get $key)))
    ;; Whole 64-byte blocks.
    (local.set $end (i32.add (local.get $ptr) (i32.and (local.get $len) (i32.const -64))))
    (block $blocks_done
      (loop $blocks
        (br_if $blocks_done (i32.ge_u (local.get $ptr) (local.get $end)))
        (v128.store offset=0 (local.get $ptr)
          (v128.xor (v128.load offset=0 (local.get $ptr)) (local.get $k)))
        (v128.store offset=16 (local.get $ptr)
          (v128.xor (v128.load offset=16 (local.get $ptr)) (local.get $k)))
        (v128.store offset=32 (local.get $ptr)
          (v128.xor (v128.load offset=32 (local.get $ptr)) (local.get $k)))
        (v128.store offset=48 (local.get $ptr)
          (v128.xor (v128.load offset=48 (local.get $ptr)) (local.get $k)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 64)))
        (br $blocks)))
    ;; The rest: whole words (a multiple of 64 bytes keeps the key phase), then single bytes.
    (local.set $end (i32.add (local.get $end) (i32.and (local.get $len) (i32.const 63))))
    (block $words_done
      (loop $words
        (br_if $words_done (i32.gt_u (i32.add (local.get $ptr) (i32.const 4)) (local.get $end)))
        (i32.store (local.get $ptr) (i32.xor (i32.load (local.get $ptr)) (local.get $key)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 4)))
        (br $words)))
    (block $bytes_done
      (loop $bytes
        (br_if $bytes_done (i32.ge_u (local.get $ptr) (local.get $end)))
        (i32.store8 (local.get $ptr) (i32.xor (i32.load8_u (local.get $ptr)) (local.get $key)))
        (local.set $key (i32.shr_u (local.get $key) (i32.const 8)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
        (br $bytes)))))
