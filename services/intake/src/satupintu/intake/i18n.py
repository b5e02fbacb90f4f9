"""The citizen pages' words in Indonesian and English: every text of the pages, the names of states and events, how
dates and numbers are written, and the error messages a person reads beside a field. Labels and help of form fields
come from the catalogue, not from here."""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

from satupintu.common.dates import long_date, long_time
from satupintu.common.web import translator

PAGE_TIMEZONE: Final = "Asia/Jakarta"

TEXTS: Final[translator.Texts] = {
    "id": {
        "site_name": "Satu Pintu",
        "site_tagline": "Mal Pelayanan Publik Digital",
        "skip_link": "Langsung ke isi utama",
        "switch_language": "Ganti bahasa",
        "footer": "Satu Pintu, Mal Pelayanan Publik. Data pribadi Anda dilindungi dan hanya dilihat petugas yang "
        "berwenang.",
        "nav_services": "Layanan",
        "nav_track": "Lacak permohonan",
        "optional": "(opsional)",
        "error_prefix": "Kesalahan:",
        "error_title_prefix": "Kesalahan: ",
        "error_summary_title": "Ada masalah",
        "back_to_services": "Kembali ke daftar layanan",
        # Choosing a service
        "services_title": "Ajukan permohonan layanan",
        "services_lead": "Pilih layanan yang Anda perlukan. Anda cukup mengisi satu formulir; semua instansi terkait "
        "memprosesnya untuk Anda.",
        "services_heading": "Layanan yang tersedia",
        "service_sla": "Selesai dalam {days} hari kerja",
        "service_sla_one": "Selesai dalam 1 hari kerja",
        "service_cost": "Biaya: {cost}",
        "service_agency": "Instansi: {agency}",
        "apply_for": "Ajukan {service}",
        "track_lead": "Sudah mengajukan permohonan?",
        "track_link": "Lacak permohonan Anda dengan kode pelacakan",
        # The form
        "apply_title": "Permohonan {service}",
        "apply_lead": "Isi formulir ini untuk mengajukan permohonan. Kolom yang tidak wajib diberi tanda (opsional).",
        "apply_product": "Anda akan menerima: {product}",
        "applicant_heading": "Data pemohon",
        "service_heading": "Data permohonan",
        "documents_heading": "Dokumen",
        "consent_heading": "Persetujuan",
        "nik_label": "NIK (Nomor Induk Kependudukan)",
        "nik_hint": "16 angka, seperti tertulis pada KTP Anda.",
        "name_label": "Nama lengkap",
        "name_hint": "Sesuai KTP.",
        "email_label": "Alamat email",
        "email_hint": "Kami mengirim kabar permohonan ke alamat ini.",
        "phone_label": "Nomor HP",
        "phone_hint": "Untuk SMS atau WhatsApp, misalnya 081234567890.",
        "language_label": "Bahasa pemberitahuan",
        "language_hint": "Bahasa yang kami gunakan saat memberi kabar kepada Anda.",
        "consent_label": "Saya setuju data saya disimpan dan digunakan kembali untuk permohonan berikutnya",
        "consent_hint": "Kami mengirim kode ke email atau nomor HP Anda untuk memastikannya. Data Anda hanya "
        "digunakan lagi untuk instansi yang Anda izinkan di catatan persetujuan, dan dapat Anda tarik kapan saja.",
        "document_hint": "{types}, paling besar {size}.",
        "document_kept": "Sudah diunggah: {filename}. Pilih berkas lain hanya jika ingin menggantinya.",
        "media_type_list_join": " atau ",
        "submit_application": "Kirim permohonan",
        "already_submitted_title": "Formulir ini sudah dikirim",
        "already_submitted_body": "Permohonan dari formulir ini sudah kami terima, dengan isi yang berbeda. "
        "Untuk permohonan baru, isi formulir dari awal.",
        "start_again": "Isi formulir baru",
        "too_large_title": "Berkas terlalu besar",
        "too_large_body": "Berkas yang Anda kirim terlalu besar. Kembali ke formulir dan pilih berkas yang lebih "
        "kecil.",
        "upload_volume_title": "Terlalu banyak unggahan",
        "upload_volume_body": "Dari jaringan Anda sudah terlalu banyak berkas diunggah dalam satu jam terakhir. "
        "Coba lagi nanti.",
        "busy_title": "Layanan sedang sibuk",
        "busy_body": "Kami sedang menerima banyak unggahan. Tunggu sebentar, lalu kirim formulir lagi.",
        # Confirmation
        "confirmation_title": "Permohonan terkirim",
        "confirmation_code_label": "Kode pelacakan Anda",
        "confirmation_keep_code": "Simpan kode ini. Anda memerlukannya untuk melihat status permohonan dan menjawab "
        "pertanyaan petugas.",
        "confirmation_next_heading": "Apa yang terjadi selanjutnya",
        "confirmation_next_body": "Permohonan {service} Anda diteruskan ke instansi terkait. Kami memberi kabar setiap "
        "ada perkembangan. Standar pelayanan: {days} hari kerja.",
        "confirmation_status_link": "Lihat status permohonan",
        "confirmation_another": "Ajukan layanan lain",
        # Tracking
        "track_title": "Lacak permohonan",
        "track_code_label": "Kode pelacakan",
        "track_code_hint": "Tertulis pada halaman konfirmasi dan pesan dari kami, misalnya SP-ABCDE-FGHJKM-NPQRST.",
        "track_submit": "Lihat status",
        "status_title": "Status permohonan",
        "status_service": "Layanan",
        "status_state": "Status",
        "status_submitted_at": "Diajukan",
        "status_updated_at": "Terakhir berubah",
        "status_due_at": "Target selesai",
        "status_applicant": "Pemohon",
        "status_sla_breached": "Batas waktu standar pelayanan sudah lewat. Instansi terkait sudah diberi tahu.",
        "status_tasks_heading": "Instansi yang memproses",
        "status_no_tasks": "Permohonan Anda sedang diteruskan ke instansi terkait.",
        "status_stage": "Tahap {number} dari {count}",
        "status_task_due": "Batas waktu: {due}",
        "status_questions": "Pertanyaan petugas:",
        "status_answer_link": "Jawab pertanyaan",
        "status_consent_link": "Atur atau tarik persetujuan penggunaan ulang data Anda",
        "status_outputs_heading": "Hasil",
        "status_reason_heading": "Alasan penolakan",
        "status_timeline_heading": "Riwayat",
        "status_answered": "Jawaban Anda sudah diteruskan ke petugas.",
        "status_code": "Kode pelacakan: {code}",
        "document_heading": "Dokumen yang diterbitkan",
        "document_number": "Nomor",
        "document_issued_at": "Tanggal terbit",
        "document_valid_until": "Berlaku sampai",
        "document_no_expiry": "Tanpa batas waktu",
        "document_status": "Keabsahan",
        "document_state.valid": "Sah",
        "document_state.revoked": "Dicabut",
        "document_state.expired": "Masa berlaku habis",
        "document_revoked_note": "Dokumen ini sudah dicabut oleh penerbitnya dan tidak berlaku lagi. Anda masih dapat "
        "mengunduhnya untuk arsip Anda.",
        "document_download": "Unduh dokumen (PDF)",
        "document_download_nik_hint": "Masukkan NIK pemohon untuk mengunduh dokumen.",
        "document_verify_link": "Halaman verifikasi dokumen ini",
        "document_ready_for_collection": "Dokumen asli sudah siap diambil di loket Mal Pelayanan Publik; bawa "
        "KTP Anda.",
        "document_collected_by_holder": "Dokumen asli sudah diambil pada {date} oleh pemegangnya.",
        "document_collected_by_representative": "Dokumen asli sudah diambil pada {date} oleh seorang kuasa.",
        "download_refused_title": "Dokumen tidak ditemukan",
        "download_refused_body": "Tidak ada dokumen untuk kode pelacakan dan NIK ini. Periksa NIK pemohon dan "
        "coba lagi.",
        "not_found_title": "Halaman tidak ditemukan",
        "not_found_body": "Periksa kembali alamat halaman.",
        "unknown_code_title": "Kode pelacakan tidak ditemukan",
        "unknown_code_body": "Tidak ada permohonan dengan kode {code}. Periksa kembali kode Anda.",
        "unknown_service_body": "Tidak ada layanan dengan kode {code}.",
        # Verifying an issued document (its QR code leads here)
        "verify_title": "Verifikasi dokumen",
        "verify_valid": "Sah",
        "verify_valid_body": "Dokumen ini diterbitkan oleh {agency} melalui Satu Pintu dan tidak dicabut.",
        "verify_expired": "Masa berlaku habis",
        "verify_expired_body": "Dokumen ini diterbitkan oleh {agency} melalui Satu Pintu, tetapi masa berlakunya "
        "berakhir pada {date}.",
        "verify_revoked": "Dicabut",
        "verify_revoked_body": "Dokumen ini sudah dicabut oleh {agency} pada {at} dan tidak berlaku lagi.",
        "verify_reason_heading": "Alasan pencabutan",
        "verify_issuer": "Penerbit",
        "verify_number": "Nomor dokumen",
        "verify_issued_at": "Tanggal terbit",
        "verify_valid_until": "Berlaku sampai",
        "verify_no_expiry": "Tanpa batas waktu",
        "verify_revoked_at": "Dicabut pada",
        "verify_holder": "Pemegang",
        "verify_sha256": "Sidik isi (SHA-256)",
        "verify_how_heading": "Cara memeriksa",
        "verify_how_holder": "Cocokkan inisial dan empat angka terakhir NIK pemegang dengan KTP orang yang "
        "menunjukkan dokumen ini.",
        "verify_how_hash": "Sidik SHA-256 berkas PDF yang Anda terima harus sama persis dengan sidik di atas; "
        "berkas dengan sidik lain bukan dokumen ini.",
        "unknown_document_title": "Dokumen tidak dikenal",
        "unknown_document_body": "Tidak ada dokumen dengan kode ini yang diterbitkan melalui Satu Pintu. Periksa "
        "kembali alamatnya. Dokumen yang kodenya tidak dikenal mungkin palsu.",
        # Answering
        "answer_title": "Jawab pertanyaan petugas",
        "answer_lead": "Jawab pertanyaan di bawah. Isi hanya data yang ingin Anda ubah atau lengkapi.",
        "answer_asked_by": "{agency} bertanya:",
        "answer_task_label": "Pertanyaan mana yang Anda jawab?",
        "answer_nik_hint": "Hanya pemohon yang dapat menjawab: isi NIK pemohon.",
        "answer_changes_heading": "Data yang diubah",
        "answer_changes_hint": "Kosongkan kolom yang tidak berubah.",
        "answer_unchanged": "Tidak berubah",
        "answer_message_label": "Pesan untuk petugas",
        "answer_documents_heading": "Dokumen tambahan",
        "answer_submit": "Kirim jawaban",
        "answer_nothing_asked_title": "Tidak ada pertanyaan yang menunggu jawaban",
        "answer_nothing_asked_body": "Tidak ada instansi yang menunggu jawaban Anda untuk permohonan ini.",
        "answer_already_body": "Pertanyaan ini sudah dijawab.",
        "back_to_status": "Kembali ke status permohonan",
        "yes": "Ya",
        "no": "Tidak",
        # Application states
        "state.submitted": "Diterima",
        "state.in_progress": "Sedang diproses",
        "state.information_requested": "Menunggu jawaban Anda",
        "state.completed": "Selesai",
        "state.rejected": "Ditolak",
        # Task states
        "task_state.assigned": "Menunggu diproses",
        "task_state.claimed": "Sedang diperiksa petugas",
        "task_state.information_requested": "Menunggu jawaban Anda",
        "task_state.approved": "Disetujui",
        "task_state.rejected": "Ditolak",
        "task_state.withdrawn": "Dibatalkan",
        # Timeline
        "event.application.submitted": "Permohonan diterima",
        "event.application.stage_started": "Tahap {number} dari {count} dimulai: {agencies}",
        "event.application.task_updated": "{agency}: {state}",
        "event.application.information_requested": "{agency} meminta keterangan tambahan",
        "event.application.information_provided": "Anda menjawab pertanyaan {agency}",
        "event.application.completed": "Permohonan selesai",
        "event.application.rejected": "{agency} menolak permohonan",
        "event.application.sla_breached": "Batas waktu standar pelayanan terlewati",
        "event.unknown": "Perubahan status",
        # Errors beside fields
        "error.required": "Isi {label}",
        "error.choose": "Pilih {label}",
        "error.upload": "Unggah {label}",
        "error.pattern": "Isi {label} dengan format yang benar",
        "error.too_long": "{label} paling banyak {max_length} karakter",
        "error.minimum": "{label} paling kecil {minimum}",
        "error.maximum": "{label} paling besar {maximum}",
        "error.integer": "{label} harus berupa bilangan bulat",
        "error.number": "{label} harus berupa angka, misalnya 120,5",
        "error.date": "{label} harus berupa tanggal yang benar",
        "error.control": "{label} tidak boleh berisi karakter khusus atau baris baru",
        "error.email": "Isi alamat email dengan format yang benar, misalnya nama@contoh.id",
        "error.phone": "Isi nomor HP dengan format yang benar, misalnya 081234567890",
        "error.nik": "Isi NIK dengan 16 angka seperti pada KTP",
        "error.nik_zero_region": "Kode wilayah pada NIK (6 angka pertama) tidak boleh 00",
        "error.nik_birth_date": "Tanggal lahir pada NIK (angka ke-7 sampai ke-12) bukan tanggal yang benar",
        "error.nik_future": "Tanggal lahir pada NIK belum terjadi",
        "error.nik_serial": "Nomor urut pada NIK (4 angka terakhir) tidak boleh 0000",
        "error.not_the_applicant": "NIK ini bukan NIK pemohon",
        "error.locked": "Terlalu banyak percobaan NIK yang salah; coba lagi dalam {seconds} detik",
        "error.file_too_large": "{label} harus lebih kecil dari {size}",
        "error.file_type": "{label} harus berupa {types}",
        "error.file_empty": "Berkas {label} kosong",
        "error.answer_missing": "Isi pesan, ubah data, atau unggah dokumen",
        "error.invalid": "{label} tidak valid: {detail}",
        "error.tracking_code": "Isi kode pelacakan",
        "error.unknown_code": "Tidak ada permohonan dengan kode pelacakan ini",
        "error.task": "Pilih pertanyaan yang Anda jawab",
        # Citizens with an account (decision 0024)
        "nav_my_applications": "Permohonan saya",
        "sign_in_title": "Masuk",
        "sign_in_lead": "Dengan akun, Anda melihat semua permohonan Anda di setiap layanan dan instansi tanpa kode "
        "pelacakan, dan memakai data tersimpan Anda tanpa kode sekali pakai.",
        "sign_in_link": "Masuk",
        "sign_in_optional": "Akun tidak wajib: Anda tetap dapat mengajukan permohonan, melacaknya dengan kode "
        "pelacakan, memakai data tersimpan dengan kode sekali pakai, atau datang ke loket.",
        "signed_out": "Anda sudah keluar.",
        "signed_in_as": "Masuk sebagai {name}",
        "sign_out": "Keluar",
        "my_applications_title": "Permohonan saya",
        "my_applications_lead": "Semua permohonan atas NIK {nik} di setiap layanan dan instansi, yang terbaru lebih "
        "dulu.",
        "my_applications_none": "Belum ada permohonan atas NIK Anda.",
        "my_applications_service": "Layanan",
        "my_applications_state": "Status",
        "my_applications_submitted": "Diajukan",
        "my_applications_open": "Lihat status",
        "no_nik_title": "Akun Anda belum memiliki NIK terverifikasi",
        "no_nik_body": "Permohonan hanya dapat ditampilkan untuk akun dengan NIK terverifikasi. Lacak permohonan "
        "dengan kode pelacakannya.",
        "not_yours_title": "Permohonan tidak ditemukan",
        "not_yours_body": "Tidak ada permohonan ini di antara permohonan Anda. Permohonan orang lain hanya dapat "
        "dilihat dengan kode pelacakannya.",
        "reuse_signed_in_hint": "Anda masuk sebagai pemilik NIK {nik}. Bila Anda mengajukan untuk NIK ini dan "
        "menyetujui penggunaan ulang, kolom yang Anda kosongkan diisi dari data tersimpan Anda, tanpa kode sekali "
        "pakai.",
    },
    "en": {
        "site_name": "Satu Pintu",
        "site_tagline": "Digital Public Service Mall",
        "skip_link": "Skip to main content",
        "switch_language": "Change language",
        "footer": "Satu Pintu, the public service mall. Your personal data is protected and seen only by the officers "
        "who need it.",
        "nav_services": "Services",
        "nav_track": "Track an application",
        "optional": "(optional)",
        "error_prefix": "Error:",
        "error_title_prefix": "Error: ",
        "error_summary_title": "There is a problem",
        "back_to_services": "Back to the list of services",
        "services_title": "Apply for a public service",
        "services_lead": "Choose the service you need. You fill in one form; every agency involved processes it for "
        "you.",
        "services_heading": "Services",
        "service_sla": "Done in {days} working days",
        "service_sla_one": "Done in 1 working day",
        "service_cost": "Cost: {cost}",
        "service_agency": "Agency: {agency}",
        "apply_for": "Apply for {service}",
        "track_lead": "Already applied?",
        "track_link": "Track your application with its tracking code",
        "apply_title": "Apply for {service}",
        "apply_lead": "Fill in this form to apply. Fields you do not have to fill in are marked (optional).",
        "apply_product": "You will receive: {product}",
        "applicant_heading": "About you",
        "service_heading": "About your application",
        "documents_heading": "Documents",
        "consent_heading": "Consent",
        "nik_label": "NIK (national identity number)",
        "nik_hint": "16 digits, as on your identity card (KTP).",
        "name_label": "Full name",
        "name_hint": "As on your identity card.",
        "email_label": "Email address",
        "email_hint": "We send news about your application to this address.",
        "phone_label": "Mobile number",
        "phone_hint": "For SMS or WhatsApp, for example 081234567890.",
        "language_label": "Language of our messages",
        "language_hint": "The language we write to you in.",
        "consent_label": "I agree that my data is kept and reused for my next applications",
        "consent_hint": "We send a code to your e-mail or phone to confirm it. Your data is reused only for the "
        "agencies you allow in your consent record, and you can withdraw that at any time.",
        "document_hint": "{types}, up to {size}.",
        "document_kept": "Uploaded: {filename}. Choose another file only to replace it.",
        "media_type_list_join": " or ",
        "submit_application": "Send application",
        "already_submitted_title": "This form was already sent",
        "already_submitted_body": "We already received an application from this form, with different answers. "
        "To make a new application, start a new form.",
        "start_again": "Start a new form",
        "too_large_title": "The files are too large",
        "too_large_body": "The files you sent are too large. Go back to the form and choose smaller files.",
        "upload_volume_title": "Too many uploads",
        "upload_volume_body": "Too many files were uploaded from your network in the last hour. Try again later.",
        "busy_title": "The service is busy",
        "busy_body": "We are receiving many uploads. Wait a moment, then send the form again.",
        "confirmation_title": "Application sent",
        "confirmation_code_label": "Your tracking code",
        "confirmation_keep_code": "Keep this code. You need it to see your application's status and to answer an "
        "officer's questions.",
        "confirmation_next_heading": "What happens next",
        "confirmation_next_body": "Your {service} application goes to the agencies involved. We tell you whenever "
        "something happens. Service standard: {days} working days.",
        "confirmation_status_link": "See the status of your application",
        "confirmation_another": "Apply for another service",
        "track_title": "Track an application",
        "track_code_label": "Tracking code",
        "track_code_hint": "It is on the confirmation page and in our messages, for example SP-ABCDE-FGHJKM-NPQRST.",
        "track_submit": "See status",
        "status_title": "Application status",
        "status_service": "Service",
        "status_state": "Status",
        "status_submitted_at": "Applied",
        "status_updated_at": "Last change",
        "status_due_at": "Due",
        "status_applicant": "Applicant",
        "status_sla_breached": "The service standard's time has passed. The agencies involved have been told.",
        "status_tasks_heading": "Agencies processing it",
        "status_no_tasks": "Your application is on its way to the agencies involved.",
        "status_stage": "Stage {number} of {count}",
        "status_task_due": "Due: {due}",
        "status_questions": "The officer asks:",
        "status_answer_link": "Answer the question",
        "status_consent_link": "Manage or withdraw your consent to reuse your data",
        "status_outputs_heading": "Results",
        "status_reason_heading": "Why it was rejected",
        "status_timeline_heading": "History",
        "status_answered": "Your answer was passed on to the officer.",
        "status_code": "Tracking code: {code}",
        "document_heading": "Issued documents",
        "document_number": "Number",
        "document_issued_at": "Issued on",
        "document_valid_until": "Valid until",
        "document_no_expiry": "No expiry",
        "document_status": "Validity",
        "document_state.valid": "Valid",
        "document_state.revoked": "Revoked",
        "document_state.expired": "Expired",
        "document_revoked_note": "Its issuer has revoked this document: it is no longer valid. You can still download "
        "it for your records.",
        "document_download": "Download the document (PDF)",
        "document_download_nik_hint": "Enter the applicant's NIK to download the document.",
        "document_verify_link": "This document's verification page",
        "document_ready_for_collection": "The original is ready for collection at the mall counter; bring your KTP.",
        "document_collected_by_holder": "The original was collected on {date} by the holder.",
        "document_collected_by_representative": "The original was collected on {date} by a representative.",
        "download_refused_title": "Document not found",
        "download_refused_body": "There is no document for this tracking code and NIK. Check the applicant's NIK and "
        "try again.",
        "not_found_title": "Page not found",
        "not_found_body": "Check the page's address.",
        "unknown_code_title": "Tracking code not found",
        "unknown_code_body": "No application has the code {code}. Check your code.",
        "unknown_service_body": "There is no service with the code {code}.",
        "verify_title": "Document verification",
        "verify_valid": "Valid",
        "verify_valid_body": "This document was issued by {agency} through Satu Pintu and has not been revoked.",
        "verify_expired": "Expired",
        "verify_expired_body": "This document was issued by {agency} through Satu Pintu, but its validity ended on "
        "{date}.",
        "verify_revoked": "Revoked",
        "verify_revoked_body": "This document was revoked by {agency} on {at} and is no longer valid.",
        "verify_reason_heading": "Reason for revocation",
        "verify_issuer": "Issuer",
        "verify_number": "Document number",
        "verify_issued_at": "Issued on",
        "verify_valid_until": "Valid until",
        "verify_no_expiry": "No expiry",
        "verify_revoked_at": "Revoked on",
        "verify_holder": "Holder",
        "verify_sha256": "Content fingerprint (SHA-256)",
        "verify_how_heading": "How to check",
        "verify_how_holder": "Compare the holder's initials and the last four digits of the NIK with the identity "
        "card of the person showing this document.",
        "verify_how_hash": "The SHA-256 fingerprint of the PDF file you received must be exactly the one above; a "
        "file with another fingerprint is not this document.",
        "unknown_document_title": "Unknown document",
        "unknown_document_body": "No document with this code was issued through Satu Pintu. Check the address. A "
        "document whose code is unknown may be forged.",
        "answer_title": "Answer the officer's question",
        "answer_lead": "Answer the question below. Fill in only the data you want to change or add.",
        "answer_asked_by": "{agency} asks:",
        "answer_task_label": "Which question are you answering?",
        "answer_nik_hint": "Only the applicant may answer: enter the applicant's NIK.",
        "answer_changes_heading": "Data to change",
        "answer_changes_hint": "Leave a field empty when it does not change.",
        "answer_unchanged": "Unchanged",
        "answer_message_label": "Message to the officer",
        "answer_documents_heading": "More documents",
        "answer_submit": "Send answer",
        "answer_nothing_asked_title": "No question is waiting for an answer",
        "answer_nothing_asked_body": "No agency is waiting for an answer from you on this application.",
        "answer_already_body": "This question was already answered.",
        "back_to_status": "Back to the application's status",
        "yes": "Yes",
        "no": "No",
        "state.submitted": "Received",
        "state.in_progress": "In progress",
        "state.information_requested": "Waiting for your answer",
        "state.completed": "Completed",
        "state.rejected": "Rejected",
        "task_state.assigned": "Waiting to be processed",
        "task_state.claimed": "Being reviewed by an officer",
        "task_state.information_requested": "Waiting for your answer",
        "task_state.approved": "Approved",
        "task_state.rejected": "Rejected",
        "task_state.withdrawn": "Withdrawn",
        "event.application.submitted": "Application received",
        "event.application.stage_started": "Stage {number} of {count} started: {agencies}",
        "event.application.task_updated": "{agency}: {state}",
        "event.application.information_requested": "{agency} asked for more information",
        "event.application.information_provided": "You answered {agency}'s question",
        "event.application.completed": "Application completed",
        "event.application.rejected": "{agency} rejected the application",
        "event.application.sla_breached": "The service standard's time passed",
        "event.unknown": "Status change",
        "error.required": "Enter {label}",
        "error.choose": "Select {label}",
        "error.upload": "Upload {label}",
        "error.pattern": "Enter {label} in the correct format",
        "error.too_long": "{label} must be {max_length} characters or fewer",
        "error.minimum": "{label} must be {minimum} or more",
        "error.maximum": "{label} must be {maximum} or less",
        "error.integer": "{label} must be a whole number",
        "error.number": "{label} must be a number, like 120.5",
        "error.date": "{label} must be a real date",
        "error.control": "{label} must not contain special characters or line breaks",
        "error.email": "Enter an email address in the correct format, like name@example.com",
        "error.phone": "Enter a mobile number in the correct format, like 081234567890",
        "error.nik": "Enter a NIK of 16 digits, as on your identity card",
        "error.nik_zero_region": "The region codes of the NIK (its first 6 digits) cannot be 00",
        "error.nik_birth_date": "The date of birth in the NIK (digits 7 to 12) is not a real date",
        "error.nik_future": "The date of birth in the NIK is in the future",
        "error.nik_serial": "The serial number of the NIK (its last 4 digits) cannot be 0000",
        "error.not_the_applicant": "This NIK is not the applicant's NIK",
        "error.locked": "Too many wrong NIKs were tried; try again in {seconds} seconds",
        "error.file_too_large": "{label} must be smaller than {size}",
        "error.file_type": "{label} must be a {types}",
        "error.file_empty": "The file for {label} is empty",
        "error.answer_missing": "Write a message, change some data or upload a document",
        "error.invalid": "{label} is not valid: {detail}",
        "error.tracking_code": "Enter a tracking code",
        "error.unknown_code": "No application has this tracking code",
        "error.task": "Select the question you are answering",
        # Citizens with an account (decision 0024)
        "nav_my_applications": "My applications",
        "sign_in_title": "Sign in",
        "sign_in_lead": "With an account you see all your applications, for every service and agency, without "
        "tracking codes, and reuse your saved data without a one-time code.",
        "sign_in_link": "Sign in",
        "sign_in_optional": "You do not need an account: you can still apply, track an application with its tracking "
        "code, reuse saved data with a one-time code, or come to the counter.",
        "signed_out": "You are signed out.",
        "signed_in_as": "Signed in as {name}",
        "sign_out": "Sign out",
        "my_applications_title": "My applications",
        "my_applications_lead": "Every application for the NIK {nik}, for every service and agency, newest first.",
        "my_applications_none": "There is no application for your NIK yet.",
        "my_applications_service": "Service",
        "my_applications_state": "Status",
        "my_applications_submitted": "Submitted",
        "my_applications_open": "See its status",
        "no_nik_title": "Your account has no verified NIK",
        "no_nik_body": "Applications are listed only for an account with a verified NIK. Track an application with "
        "its tracking code.",
        "not_yours_title": "Application not found",
        "not_yours_body": "This is not one of your applications. Someone else's application can be seen only with its "
        "tracking code.",
        "reuse_signed_in_hint": "You are signed in as the holder of the NIK {nik}. If you apply for this NIK and agree "
        "to reuse, the fields you leave empty are filled from your saved data, without a one-time code.",
    },
}

_MEDIA_TYPE_NAMES: Final = {"application/pdf": "PDF", "image/jpeg": "JPG", "image/png": "PNG"}


def mid_sentence(label: str) -> str:
    """A label as it reads inside a sentence ("Isi nama lengkap"): first letter lower-cased unless an acronym."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


class Translator(translator.Translator):
    """The pages' words (:class:`satupintu.common.web.translator.Translator`'s fallback: this language, then
    Indonesian, then the key), dates and numbers in one language."""

    def __init__(self, language: str | None) -> None:
        super().__init__(TEXTS, language)

    def application_state(self, state: str) -> str:
        """An application's state as the citizen reads it (the state itself when it has no text)."""
        key = f"state.{state}"
        return self(key) if self.has(key) else state

    def task_state(self, state: str) -> str:
        """An agency task's state as the citizen reads it (the state itself when it has no text)."""
        key = f"task_state.{state}"
        return self(key) if self.has(key) else state

    def date(self, value: date | datetime | None) -> str:
        """A date as people write it: ``15 Juni 2026`` or ``15 June 2026`` (a moment's date in Jakarta)."""
        return "" if value is None else long_date(value, self.language, PAGE_TIMEZONE)

    def moment(self, value: datetime | None) -> str:
        """A moment as people write it, in Jakarta time: ``15 Juni 2026 14.30 WIB`` or ``15 June 2026 14:30 WIB``."""
        return "" if value is None else long_time(value, self.language, PAGE_TIMEZONE)

    def number(self, value: float) -> str:
        """A number with the language's digit grouping: ``100.000`` or ``100,000``; decimals only when it has some."""
        text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"
        if self.language == "id":
            return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
        return text

    def size(self, size_bytes: int) -> str:
        """A file size a person understands: ``2 MB`` or ``500 KB``."""
        if size_bytes >= 1_000_000:
            megabytes = size_bytes / 1_000_000
            return f"{self.number(round(megabytes, 1))} MB"
        return f"{self.number(max(1, round(size_bytes / 1000)))} KB"

    def media_types(self, media_types: tuple[str, ...] | list[str]) -> str:
        """Accepted file types as a list a person reads: ``PDF, JPG atau PNG``."""
        names = [_MEDIA_TYPE_NAMES.get(media_type, media_type) for media_type in media_types]
        if len(names) < 2:
            return "".join(names)
        return ", ".join(names[:-1]) + self("media_type_list_join") + names[-1]
