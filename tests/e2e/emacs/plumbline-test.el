;;; plumbline-test.el --- Emacs (eglot, batch) end to end for the Plumbline language server  -*- lexical-binding: t -*-
;; Plumbline's diagnostic shows on open, its quick fix clears it, and an edit to a mixin updates the diagnostics
;; of model files that are not open (eglot 1.9 drops diagnostics of unvisited files from flymake, so the test
;; reads the publishDiagnostics notifications themselves).
;; usage: PLUMBLINE_PYTHON=python3 PLUMBLINE_ROOT=/path/to/project \
;;        emacs -Q --batch -l plumbline-test.el /path/to/project/app/models/orders.py
(require 'package)
;; Debian's elpa-* packages live here; site-start adds it, but `emacs -Q` skips site-start.
(add-to-list 'package-directory-list "/usr/share/emacs/site-lisp/elpa")
(package-initialize)
(require 'eglot)
(require 'flymake)
(require 'cl-lib)

(defvar plumbline-root (file-name-as-directory (expand-file-name (or (getenv "PLUMBLINE_ROOT") (error "PLUMBLINE_ROOT is not set")))))
(defvar plumbline-timeout 30)
(defvar plumbline-published (make-hash-table :test 'equal) "URI -> the diagnostics last published for it.")

(defun out (fmt &rest args) (princ (concat (apply #'format fmt args) "\n")))
(defun fail (fmt &rest args) (out "FAIL: %s" (apply #'format fmt args)) (kill-emacs 1))
(defun wait-until (pred secs)
  (let ((deadline (+ (float-time) secs)))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (funcall pred)))

;; The project is the folder given, whatever version control says.
(add-hook 'project-find-functions (lambda (_dir) (cons 'transient plumbline-root)))
(setq eglot-server-programs
      `((python-mode . (,(or (getenv "PLUMBLINE_PYTHON") "python3") "-m" "lsp_server" "serve" "--stdio"))))
(setq eglot-sync-connect t eglot-autoshutdown t eglot-send-changes-idle-time 0)

(cl-defmethod eglot-handle-notification :before
  (_server (_method (eql textDocument/publishDiagnostics)) &key uri diagnostics &allow-other-keys)
  (puthash uri diagnostics plumbline-published))

(defun published-codes (file)
  "The codes of the diagnostics last published for FILE."
  (let ((diagnostics (gethash (concat "file://" (expand-file-name file plumbline-root)) plumbline-published)))
    (mapcar (lambda (d) (plist-get d :code)) (append diagnostics nil))))

(defun plumbline-diagnostics ()
  (cl-remove-if-not (lambda (d) (string-match-p "references\\|timestamp\\|page" (flymake-diagnostic-text d)))
                    (flymake-diagnostics)))

(out "emacs %s, eglot %s" emacs-version (package-desc-version (cadr (assq 'eglot package-alist))))
(let ((file (expand-file-name (car command-line-args-left))))
  (setq command-line-args-left nil)
  (find-file file)
  (python-mode)
  ;; eglot-ensure only fires from post-command-hook, which never runs in --batch: call eglot directly.
  (apply #'eglot (eglot--guess-contact))
  (unless (eglot-current-server) (fail "no server"))

  ;; 1. the finding shows on open
  (unless (wait-until (lambda () (plumbline-diagnostics)) plumbline-timeout)
    (fail "no Plumbline diagnostic within %ss" plumbline-timeout))
  (let ((diagnostic (car (plumbline-diagnostics))))
    (out "DIAG line=%d text=%s" (line-number-at-pos (flymake-diagnostic-beg diagnostic))
         (flymake-diagnostic-text diagnostic))
    ;; 2. its quick fix (the preferred action) clears it
    (goto-char (flymake-diagnostic-beg diagnostic))
    (let* ((actions (eglot-code-actions (line-beginning-position) (line-end-position) "quickfix"))
           (fix (cl-find-if (lambda (action) (eq (plist-get action :isPreferred) t)) actions)))
      (out "ACTIONS %s" (mapconcat (lambda (a) (plist-get a :title)) actions " | "))
      (unless fix (fail "no preferred quick fix"))
      (eglot--apply-workspace-edit (plist-get fix :edit))))
  (out "FIXED %s" (buffer-substring (line-beginning-position) (line-end-position)))
  ;; didChange normally goes out from an idle timer, and idle timers do not fire in --batch.
  (eglot--signal-textDocument/didChange)
  (flymake-start)
  (unless (wait-until (lambda () (progn (flymake-start) (null (plumbline-diagnostics)))) plumbline-timeout)
    (fail "the diagnostic is still shown after the quick fix"))
  (out "CLEARED DB003")
  (when (member "DB001" (published-codes "app/models/products.py")) (fail "DB001 before the edit"))

  ;; 3. removing created_at from the mixin raises DB001 in model files that are not open
  (find-file (expand-file-name "app/models/mixins.py" plumbline-root))
  (python-mode)
  (unless (wait-until (lambda () (eglot-current-server)) plumbline-timeout) (fail "mixins.py not managed"))
  (goto-char (point-min))
  (search-forward "created_at")
  (delete-region (line-beginning-position) (1+ (line-end-position)))
  (eglot--signal-textDocument/didChange)
  (unless (wait-until (lambda () (and (member "DB001" (published-codes "app/models/products.py"))
                                      (member "DB001" (published-codes "app/models/reviews.py"))))
                      plumbline-timeout)
    (fail "no DB001 for the unopened model files after the mixin edit"))
  (out "DB001 products.py visited=%s reviews.py visited=%s"
       (if (find-buffer-visiting (expand-file-name "app/models/products.py" plumbline-root)) "yes" "no")
       (if (find-buffer-visiting (expand-file-name "app/models/reviews.py" plumbline-root)) "yes" "no"))
  (set-buffer-modified-p nil)
  (eglot-shutdown (eglot-current-server))
  (out "RESULT PASS")
  (kill-emacs 0))
